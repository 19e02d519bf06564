import { parseRetryAfter } from '../../nodes/shared/throttle/retryAfter';
import {
	decideRetry,
	isThrottling,
	retryPolicy,
	ThrottleClock,
	type RetryState,
} from '../../nodes/shared/throttle/retryPolicy';

const now = Date.parse('2026-11-24T10:00:00Z');

describe('parseRetryAfter', () => {
	it('reads delta seconds', () => {
		expect(parseRetryAfter('3', now)).toBe(3000);
		expect(parseRetryAfter(' 0 ', now)).toBe(0);
		expect(parseRetryAfter('1.5', now)).toBe(1500);
	});
	it('reads an HTTP date, never negative', () => {
		expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:07 GMT', now)).toBe(7000);
		expect(parseRetryAfter('Tue, 24 Nov 2026 09:59:00 GMT', now)).toBe(0);
	});
	it('gives undefined for absent or unreadable values', () => {
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
		expect(parseRetryAfter('', now)).toBeUndefined();
		expect(parseRetryAfter('soon', now)).toBeUndefined();
		expect(parseRetryAfter('-5', now)).toBeUndefined();
	});
});

describe('decideRetry', () => {
	// 3 retries after faults, no wait over 10 s, 1 minute of throttling per execution.
	const policy = retryPolicy(3, 10, 1);
	const fresh: RetryState = { faults: 0, throttled: 0, throttleHeldMs: 0 };
	const after = (faults: number, throttled = 0, throttleHeldMs = 0): RetryState => ({
		faults,
		throttled,
		throttleHeldMs,
	});

	it('retries 429, 503, 504 and dropped connections, nothing else', () => {
		for (const status of [429, 503, 504])
			expect(decideRetry({ kind: 'status', status }, fresh, policy, now, 0).retry).toBe(true);
		expect(decideRetry({ kind: 'transport' }, fresh, policy, now, 0).retry).toBe(true);
		for (const status of [400, 401, 403, 404, 500, 502])
			expect(decideRetry({ kind: 'status', status }, fresh, policy, now, 0)).toEqual({
				retry: false,
				reason: 'final',
			});
	});

	it('obeys Retry-After in both forms, capped', () => {
		expect(
			decideRetry({ kind: 'status', status: 429, retryAfter: '4' }, fresh, policy, now, 0.9),
		).toEqual({ retry: true, delayMs: 4000, fromRetryAfter: true, throttled: true });
		expect(
			decideRetry(
				{ kind: 'status', status: 429, retryAfter: 'Tue, 24 Nov 2026 10:00:05 GMT' },
				after(0, 2),
				policy,
				now,
				0.9,
			),
		).toEqual({ retry: true, delayMs: 5000, fromRetryAfter: true, throttled: true });
		expect(
			decideRetry({ kind: 'status', status: 503, retryAfter: '600' }, fresh, policy, now, 0),
		).toEqual({ retry: true, delayMs: 10_000, fromRetryAfter: true, throttled: true });
	});

	it('backs off exponentially with jitter when Graph says nothing', () => {
		expect(decideRetry({ kind: 'status', status: 503 }, fresh, policy, now, 0)).toEqual({
			retry: true,
			delayMs: 1000,
			fromRetryAfter: false,
			throttled: false,
		});
		expect(decideRetry({ kind: 'status', status: 503 }, after(1), policy, now, 0.5)).toEqual({
			retry: true,
			delayMs: 2500,
			fromRetryAfter: false,
			throttled: false,
		});
		expect(decideRetry({ kind: 'transport' }, after(2), policy, now, 0.25)).toEqual({
			retry: true,
			delayMs: 4250,
			fromRetryAfter: false,
			throttled: false,
		});
		// A 429 without Retry-After backs off over its own run of 429s, not over the faults before it.
		expect(decideRetry({ kind: 'status', status: 429 }, after(2, 1), policy, now, 0)).toEqual({
			retry: true,
			delayMs: 2000,
			fromRetryAfter: false,
			throttled: true,
		});
		expect(
			decideRetry({ kind: 'status', status: 429 }, after(0, 1000), policy, now, 0.5),
		).toMatchObject({ retry: true, delayMs: 10_000 });
	});

	it('stops faults after the last retry, whatever throttling came before', () => {
		for (const outcome of [
			{ kind: 'status', status: 503 } as const,
			{ kind: 'status', status: 504, retryAfter: '1' } as const,
			{ kind: 'transport' } as const,
		])
			expect(decideRetry(outcome, after(3, 50), policy, now, 0)).toEqual({
				retry: false,
				reason: 'maxRetries',
			});
	});

	it('retries throttling past Max Retries, for as long as the throttle budget lasts', () => {
		const throttled = { kind: 'status', status: 429, retryAfter: '5' } as const;
		expect(decideRetry(throttled, after(3, 200, 40_000), policy, now, 0)).toEqual({
			retry: true,
			delayMs: 5000,
			fromRetryAfter: true,
			throttled: true,
		});
		// 55 s held + 5 s asked = the budget exactly: still waited.
		expect(decideRetry(throttled, after(0, 7, 55_000), policy, now, 0).retry).toBe(true);
		expect(decideRetry(throttled, after(0, 7, 55_001), policy, now, 0)).toEqual({
			retry: false,
			reason: 'throttleBudget',
			delayMs: 5000,
		});
		// A 503 naming its wait is throttling too; one that names none is a fault.
		const busy = { kind: 'status', status: 503, retryAfter: '5' } as const;
		expect(decideRetry(busy, after(3, 0, 0), policy, now, 0).retry).toBe(true);
		expect(decideRetry(busy, after(0, 0, 58_000), policy, now, 0)).toMatchObject({
			reason: 'throttleBudget',
		});
		// A budget of 0: the first throttled answer fails.
		expect(decideRetry(throttled, fresh, retryPolicy(3, 10, 0), now, 0)).toMatchObject({
			reason: 'throttleBudget',
		});
	});

	it('tells throttling from faults', () => {
		expect(isThrottling({ kind: 'status', status: 429 }, now)).toBe(true);
		expect(isThrottling({ kind: 'status', status: 503, retryAfter: '0' }, now)).toBe(true);
		expect(
			isThrottling(
				{ kind: 'status', status: 503, retryAfter: 'Tue, 24 Nov 2026 10:00:05 GMT' },
				now,
			),
		).toBe(true);
		expect(isThrottling({ kind: 'status', status: 503 }, now)).toBe(false);
		expect(isThrottling({ kind: 'status', status: 503, retryAfter: 'soon' }, now)).toBe(false);
		expect(isThrottling({ kind: 'status', status: 504, retryAfter: '3' }, now)).toBe(false);
		expect(isThrottling({ kind: 'transport' }, now)).toBe(false);
	});
});

describe('ThrottleClock', () => {
	it('counts the wall time during which at least one request stood throttled, overlaps once', () => {
		const clock = new ThrottleClock();
		expect(clock.heldMs(0)).toBe(0);
		clock.hold(1000); // request A throttled
		clock.hold(3000); // request B throttled while A waits
		expect(clock.heldMs(4000)).toBe(3000);
		clock.release(5000); // A answered
		clock.release(11_000); // B answered: 1 s to 11 s held
		expect(clock.heldMs(20_000)).toBe(10_000);
		clock.hold(30_000);
		expect(clock.heldMs(32_500)).toBe(12_500);
		clock.release(33_000);
		expect(clock.heldMs(99_000)).toBe(13_000);
	});

	it('keeps running while Graph answers Retry-After: 0 forever', () => {
		const clock = new ThrottleClock();
		clock.hold(0);
		// The same request is refused again and again: it stays held, and time runs on.
		expect(clock.heldMs(600_000)).toBe(600_000);
	});

	it('ignores a release without a hold', () => {
		const clock = new ThrottleClock();
		clock.release(10);
		clock.hold(20);
		clock.release(30);
		expect(clock.heldMs(50)).toBe(10);
	});
});
