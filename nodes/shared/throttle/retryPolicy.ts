import { parseRetryAfter } from './retryAfter';

/**
 * When to try a Graph request again and how long to wait first: one small policy, apart from the
 * request code, modelled on Microsoft's own SDK (RetryHandler): 429, 503 and 504 plus dropped
 * connections, Retry-After obeyed in both of its forms, otherwise exponential backoff with jitter,
 * every wait capped.
 */

export interface RetryPolicyOptions {
	/** Retries after the first attempt. */
	maxRetries: number;
	/** First backoff when Graph gives no Retry-After; doubles on every retry. */
	baseDelayMs: number;
	/** No single wait is longer than this, whatever Retry-After says. */
	maxDelayMs: number;
	/** Up to this much random delay is added to a computed backoff. */
	jitterMs: number;
}

/**
 * Backoff when Graph gives no Retry-After, as Microsoft's SDK does: from 1 s, doubling, up to 1 s
 * of jitter.
 */
const BASE_DELAY_MS = 1000;
const JITTER_MS = 1000;

/** The policy for the client's Max Retries and Max Retry Wait settings. */
export function retryPolicy(maxRetries: number, maxRetryWaitSeconds: number): RetryPolicyOptions {
	return {
		maxRetries,
		baseDelayMs: BASE_DELAY_MS,
		maxDelayMs: maxRetryWaitSeconds * 1000,
		jitterMs: JITTER_MS,
	};
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/** What came back from one attempt, reduced to what the policy needs. */
export type AttemptOutcome =
	| { kind: 'status'; status: number; retryAfter?: string }
	/** No usable HTTP answer: reset, timeout, truncated or unreadable body. */
	| { kind: 'transport' };

export type RetryDecision =
	| { retry: false }
	| { retry: true; delayMs: number; fromRetryAfter: boolean };

/**
 * @param retriesSoFar how many retries already happened (0 after the first attempt)
 * @param random a number in [0, 1) for the jitter, injectable for tests
 */
export function decideRetry(
	outcome: AttemptOutcome,
	retriesSoFar: number,
	options: RetryPolicyOptions,
	now: number,
	random: number,
): RetryDecision {
	if (retriesSoFar >= options.maxRetries) return { retry: false };
	if (outcome.kind === 'status' && !RETRYABLE_STATUSES.has(outcome.status)) return { retry: false };

	const told = outcome.kind === 'status' ? parseRetryAfter(outcome.retryAfter, now) : undefined;
	if (told !== undefined) {
		return { retry: true, delayMs: Math.min(told, options.maxDelayMs), fromRetryAfter: true };
	}
	const backoff = options.baseDelayMs * 2 ** retriesSoFar + random * options.jitterMs;
	return {
		retry: true,
		delayMs: Math.min(Math.round(backoff), options.maxDelayMs),
		fromRetryAfter: false,
	};
}
