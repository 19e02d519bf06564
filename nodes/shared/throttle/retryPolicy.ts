import { parseRetryAfter } from './retryAfter';

/**
 * When to try a Graph request again and how long to wait first: one small policy, apart from the
 * request code, modelled on Microsoft's own SDK (RetryHandler): 429, 503 and 504 plus dropped
 * connections, Retry-After obeyed in both of its forms, otherwise exponential backoff with jitter,
 * every wait capped.
 *
 * Two kinds of retry, counted apart. Throttling (429, and 503 with Retry-After) is Graph's queue, not
 * a failure: Graph says "If the request fails again with a 429 error code, you are still being
 * throttled. Continue to use the recommended Retry-After delay and retry the request until it
 * succeeds" (learn.microsoft.com/graph/throttling), and its errors page says of 503 "You may repeat
 * the request after a delay, the length of which may be specified in a Retry-After header"
 * (learn.microsoft.com/graph/errors). So throttling is retried for as long as Graph asks, within a
 * time budget per execution (ThrottleClock), never within a count: when several workers or tools
 * share one app, long runs of 429 are normal. Everything else (504, a 503 that names no wait,
 * dropped connections, unreadable answers) is a fault, retried at most `maxRetries` times.
 */

export interface RetryPolicyOptions {
	/** Retries after faults (not throttling) per request. */
	maxRetries: number;
	/** First backoff when Graph gives no Retry-After; doubles on every retry. */
	baseDelayMs: number;
	/** No single wait is longer than this, whatever Retry-After says. */
	maxDelayMs: number;
	/** Up to this much random delay is added to a computed backoff. */
	jitterMs: number;
	/** How long one execution may be held by Graph's throttling in all (ThrottleClock). */
	maxThrottleWaitMs: number;
}

/**
 * Backoff when Graph gives no Retry-After, as Microsoft's SDK does: from 1 s, doubling, up to 1 s
 * of jitter.
 */
const BASE_DELAY_MS = 1000;
const JITTER_MS = 1000;

/** The policy for the client's Max Retries, Max Retry Wait and Max Throttle Wait settings. */
export function retryPolicy(
	maxRetries: number,
	maxRetryWaitSeconds: number,
	maxThrottleWaitMinutes: number,
): RetryPolicyOptions {
	return {
		maxRetries,
		baseDelayMs: BASE_DELAY_MS,
		maxDelayMs: maxRetryWaitSeconds * 1000,
		jitterMs: JITTER_MS,
		maxThrottleWaitMs: Math.round(maxThrottleWaitMinutes * 60_000),
	};
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/** What came back from one attempt, reduced to what the policy needs. */
export type AttemptOutcome =
	| { kind: 'status'; status: number; retryAfter?: string }
	/** No usable HTTP answer: reset, timeout, truncated or unreadable body. */
	| { kind: 'transport' };

/** What one request has been through so far, and how long its execution was held by throttling. */
export interface RetryState {
	/** Retries after faults (counted against maxRetries). */
	faults: number;
	/** Retries after throttling (counted against no number). */
	throttled: number;
	/** ThrottleClock.heldMs of the execution now. */
	throttleHeldMs: number;
}

export type RetryDecision =
	| { retry: true; delayMs: number; fromRetryAfter: boolean; throttled: boolean }
	| {
			retry: false;
			/**
			 * `final`: not a status worth retrying; `maxRetries`: the faults' count is spent;
			 * `throttleBudget`: the wait Graph asks for would take the execution past its throttle
			 * budget (`delayMs` is that wait).
			 */
			reason: 'final' | 'maxRetries' | 'throttleBudget';
			delayMs?: number;
	  };

/** 429, or a 503 that says how long to wait: Graph's queue rather than a fault. */
export function isThrottling(outcome: AttemptOutcome, now: number): boolean {
	if (outcome.kind !== 'status') return false;
	if (outcome.status === 429) return true;
	return outcome.status === 503 && parseRetryAfter(outcome.retryAfter, now) !== undefined;
}

/**
 * @param state what the request went through so far (no retries yet after the first attempt)
 * @param random a number in [0, 1) for the jitter, injectable for tests
 */
export function decideRetry(
	outcome: AttemptOutcome,
	state: RetryState,
	options: RetryPolicyOptions,
	now: number,
	random: number,
): RetryDecision {
	if (outcome.kind === 'status' && !RETRYABLE_STATUSES.has(outcome.status))
		return { retry: false, reason: 'final' };
	const throttled = isThrottling(outcome, now);
	if (!throttled && state.faults >= options.maxRetries)
		return { retry: false, reason: 'maxRetries' };

	const told = outcome.kind === 'status' ? parseRetryAfter(outcome.retryAfter, now) : undefined;
	let delayMs: number;
	if (told !== undefined) {
		delayMs = Math.min(told, options.maxDelayMs);
	} else {
		// A 429 without Retry-After backs off over its own run of 429s, a fault over its faults.
		const exponent = throttled ? state.throttled : state.faults;
		const backoff = options.baseDelayMs * 2 ** Math.min(exponent, 30) + random * options.jitterMs;
		delayMs = Math.min(Math.round(backoff), options.maxDelayMs);
	}
	if (throttled && state.throttleHeldMs + delayMs > options.maxThrottleWaitMs)
		return { retry: false, reason: 'throttleBudget', delayMs };
	return { retry: true, delayMs, fromRetryAfter: told !== undefined, throttled };
}

/**
 * How long an execution has been held by Graph's throttling: the wall time during which at least one
 * of its requests stood between a throttled answer and its next answer that was not throttling.
 * Requests throttled at the same time count once (eight requests waiting the same 10 s cost 10 s, not
 * 80 s), and the time a throttled request then queues for the app's budget counts too, so even a
 * Graph answering "Retry-After: 0" forever runs out of budget. Time spent waiting for the budget
 * without having been refused (another execution's share, the limiter's pace) is not throttling.
 * Times are passed in, so tests drive it with their own clock.
 */
export class ThrottleClock {
	private held = 0;
	private since = 0;
	private doneMs = 0;

	/** A request was throttled and now waits to be tried again. */
	hold(now: number): void {
		if (this.held++ === 0) this.since = now;
	}

	/** That request got an answer that was not throttling, failed or was cancelled. */
	release(now: number): void {
		if (this.held === 0) return;
		if (--this.held === 0) this.doneMs += Math.max(0, now - this.since);
	}

	heldMs(now: number): number {
		return this.doneMs + (this.held > 0 ? Math.max(0, now - this.since) : 0);
	}
}
