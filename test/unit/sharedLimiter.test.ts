import { sharedLimiter } from '../../nodes/shared/throttle/rateLimiter';

const MINUTE = 60_000;

describe('sharedLimiter: rate limiters per app budget', () => {
	const WINDOW = 30_600;

	it('is the same limiter for a budget while it is used, and a fresh one after ten idle minutes', () => {
		const now = 1_000_000_000;
		const limiter = sharedLimiter('cloud|tenant|idle', WINDOW, now);
		expect(sharedLimiter('cloud|tenant|idle', WINDOW, now + 5 * MINUTE)).toBe(limiter);
		// Touched at +5 min: idle from there.
		expect(sharedLimiter('cloud|tenant|idle', WINDOW, now + 14 * MINUTE)).toBe(limiter);
		expect(sharedLimiter('cloud|tenant|idle', WINDOW, now + 25 * MINUTE)).not.toBe(limiter);
	});

	it('keeps a limiter with starts in its window or a pause ahead, however many other budgets come and go', () => {
		const now = 2_000_000_000;
		const busy = sharedLimiter('cloud|tenant|busy', WINDOW, now);
		busy.reserve(now, 1500);
		const paused = sharedLimiter('cloud|tenant|paused', WINDOW, now);
		paused.pauseUntil(now + 40 * MINUTE);
		for (let index = 0; index < 1500; index++)
			sharedLimiter(`cloud|tenant|other-${index}`, WINDOW, now + 1 + index);
		expect(sharedLimiter('cloud|tenant|busy', WINDOW, now + 2000)).toBe(busy);
		expect(sharedLimiter('cloud|tenant|paused', WINDOW, now + 2000)).toBe(paused);
		// Long after: the window is empty and the pause over, so both are idle like any other.
		const later = now + 60 * MINUTE;
		expect(sharedLimiter('cloud|tenant|busy', WINDOW, later)).not.toBe(busy);
		expect(sharedLimiter('cloud|tenant|paused', WINDOW, later)).not.toBe(paused);
	});
});
