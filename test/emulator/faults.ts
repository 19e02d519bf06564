import type { Rng } from './util';

export interface FaultConfig {
	rate429?: number;
	rate503?: number;
	rate504?: number;
	/** Destroy the socket without answering. */
	rateReset?: number;
	/** Answer normally, but only after `slowMs`. */
	rateSlow?: number;
	slowMs?: number;
	/** 200 with a body that is not valid JSON. */
	rateMalformedJson?: number;
	/** 200 whose Content-Length promises more than is sent before the socket closes. */
	rateTruncated?: number;
	/** Retry-After used for injected 429 and 503; default 1. */
	retryAfterSeconds?: number;
}

export type FaultKind = '429' | '503' | '504' | 'reset' | 'slow' | 'malformedJson' | 'truncated';

const RATES: ReadonlyArray<readonly [FaultKind, keyof FaultConfig]> = [
	['429', 'rate429'],
	['503', 'rate503'],
	['504', 'rate504'],
	['reset', 'rateReset'],
	['slow', 'rateSlow'],
	['malformedJson', 'rateMalformedJson'],
	['truncated', 'rateTruncated'],
];

/** The only faults a $batch sub-request can carry: the rest are properties of an HTTP connection. */
const STATUS_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>(['429', '503', '504']);

export const DEFAULT_SLOW_MS = 2000;

export function validateFaults(config: FaultConfig): FaultConfig {
	let total = 0;
	for (const [, key] of RATES) {
		const rate = config[key] ?? 0;
		if (!(rate >= 0 && rate <= 1))
			throw new RangeError(`faults.${key} must be between 0 and 1, got ${rate}`);
		total += rate;
	}
	// The kinds are mutually exclusive per request, so their probabilities cannot add up past 1.
	if (total > 1 + 1e-9)
		throw new RangeError(`fault rates add up to ${total}; at most 1 is possible`);
	for (const key of ['slowMs', 'retryAfterSeconds'] as const) {
		const value = config[key];
		if (value !== undefined && !(value >= 0)) throw new RangeError(`faults.${key} must be >= 0`);
	}
	return { ...config };
}

/**
 * One draw per request whether or not a fault fires, so the sequence of outcomes depends only on the
 * seed and the number of requests, not on which rates happen to be set.
 */
export function drawFault(
	config: FaultConfig,
	rng: Rng,
	statusOnly: boolean,
): FaultKind | undefined {
	const r = rng();
	let cumulative = 0;
	for (const [kind, key] of RATES) {
		cumulative += config[key] ?? 0;
		if (r < cumulative) return !statusOnly || STATUS_FAULTS.has(kind) ? kind : undefined;
	}
	return undefined;
}

export interface ThrottleConfig {
	limit: number;
	windowMs: number;
}

export class SlidingWindowThrottle {
	private readonly hits = new Map<string, number[]>();

	/** Counts the request and returns 0, or returns the milliseconds until it would be admitted (not counted). */
	take(key: string, config: ThrottleConfig, now: number): number {
		let hits = this.hits.get(key);
		if (hits === undefined) {
			hits = [];
			this.hits.set(key, hits);
		}
		while (hits.length > 0 && hits[0] <= now - config.windowMs) hits.shift();
		if (hits.length >= config.limit) {
			// The limit may have been lowered at run time, so the hit that must expire is not always hits[0].
			const blocking = hits[hits.length - config.limit] ?? now;
			return Math.max(1, blocking + config.windowMs - now);
		}
		hits.push(now);
		return 0;
	}
}

export type RetryAfterFormat = 'seconds' | 'date' | 'alternate' | 'none';

export class RetryAfter {
	format: RetryAfterFormat = 'seconds';
	private useDateNext = false;

	header(waitMs: number, now = Date.now()): string | undefined {
		let form: RetryAfterFormat = this.format;
		if (form === 'alternate') {
			form = this.useDateNext ? 'date' : 'seconds';
			this.useDateNext = !this.useDateNext;
		}
		if (form === 'none') return undefined;
		if (form === 'date') {
			// HTTP-dates have whole seconds; round up so the date is never earlier than the real wait.
			return new Date(Math.ceil((now + waitMs) / 1000) * 1000).toUTCString();
		}
		// Throttle waits are at least 1 ms, so they round up to >= 1; an injected retryAfterSeconds of 0 stays 0.
		return String(Math.ceil(waitMs / 1000));
	}
}
