import { DEFAULT_TUNING, RateLimiter } from '../../nodes/shared/throttle/rateLimiter';
import { Semaphore } from '../../nodes/shared/throttle/semaphore';
import { simulateFleet, type FleetOptions } from '../bench/fleetSim';

/** Reserves `count` starts, one every `everyMs` from `from`, and returns their delays. */
function reserveEvery(
	limiter: RateLimiter,
	count: number,
	from: number,
	everyMs: number,
	ceiling: number,
): number[] {
	return Array.from({ length: count }, (_, i) => limiter.reserve(from + i * everyMs, ceiling));
}

describe('RateLimiter: the cap and the pacing', () => {
	it('lets a tenth of the ceiling start at once, paces the rest at ceiling per window, and caps the window', () => {
		const limiter = new RateLimiter(30_000);
		const delays = Array.from({ length: 1503 }, () => limiter.reserve(1000, 1500));
		expect(delays.slice(0, 150).every((delay) => delay === 0)).toBe(true);
		// 1,500 per 30 s is one every 20 ms.
		expect(delays.slice(150, 153)).toEqual([20, 40, 60]);
		expect(delays[1499]).toBe(1350 * 20);
		// The 1,501st start waits for the first to leave the window; the burst leaves together.
		expect(delays.slice(1500)).toEqual([30_000, 30_000, 30_000]);
	});

	it('never has more than the ceiling in any window', () => {
		const limiter = new RateLimiter(1000);
		const starts: number[] = [];
		let now = 0;
		for (let i = 0; i < 500; i++) {
			now += Math.floor((i * 7919) % 13);
			starts.push(now + limiter.reserve(now, 20));
		}
		starts.sort((a, b) => a - b);
		for (let i = 20; i < starts.length; i++)
			expect(starts[i] - starts[i - 20]).toBeGreaterThanOrEqual(1000);
	});

	it('takes the whole part of a ceiling typed with decimals', () => {
		const limiter = new RateLimiter(1000);
		const starts = Array.from({ length: 4 }, () => limiter.reserve(0, 2.7));
		expect(starts).toEqual([0, 500, 1000, 1500]);
	});

	it('hands out start times in order', () => {
		const limiter = new RateLimiter(1000);
		const starts = [0, 0, 0, 5, 5, 2000].map((now) => now + limiter.reserve(now, 2));
		expect(starts).toEqual([0, 500, 1000, 1500, 2000, 2500]);
	});

	it('holds everyone back after Graph said to wait, then resumes paced, without a burst', () => {
		const limiter = new RateLimiter(30_000, { ...DEFAULT_TUNING, adaptive: false });
		limiter.pauseUntil(5000);
		expect(limiter.holdAt(1000)).toBe(4000);
		expect(reserveEvery(limiter, 3, 1000, 0, 1500)).toEqual([4000, 4020, 4040]);
		expect(limiter.holdAt(5000)).toBe(0);
	});

	it('forgets starts older than the window, and takes back a reservation that was not used', () => {
		const limiter = new RateLimiter(1000);
		reserveEvery(limiter, 5000, 0, 10, 1000);
		// starts 49,010 … 49,990 are inside (49,000, 50,000]
		expect(limiter.countInWindow(50_000)).toBe(99);
		limiter.release(49_990);
		expect(limiter.countInWindow(50_000)).toBe(98);
		expect(limiter.countInWindow(60_000)).toBe(0);
	});
});

describe('RateLimiter: a share of a budget spent by others too', () => {
	it('after a 429 takes 90 % of what Graph admitted from it in the last window', () => {
		const limiter = new RateLimiter(1000);
		expect(reserveEvery(limiter, 80, 0, 10, 100).every((delay) => delay === 0)).toBe(true);
		limiter.throttledAt(790, 800, undefined);
		// 80 started, 1 of them throttled: 79 admitted.
		expect(limiter.shareNow(800, 100)).toBe(71);
	});

	it('a process that has only just started halves its share instead of dropping to nothing', () => {
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 100);
		limiter.throttledAt(0, 50, 200);
		expect(limiter.shareNow(50, 100)).toBe(50);
		expect(limiter.holdAt(50)).toBe(200);
	});

	it('decreases once per event: 429s for requests sent before the decrease do not count again', () => {
		const limiter = new RateLimiter(1000);
		reserveEvery(limiter, 80, 0, 10, 100);
		limiter.throttledAt(780, 800, undefined);
		limiter.throttledAt(790, 805, undefined);
		expect(limiter.shareNow(805, 100)).toBe(71);
		limiter.reserve(810, 100);
		limiter.throttledAt(810, 860, undefined);
		expect(limiter.shareNow(860, 100)).toBeLessThan(71);
	});

	it('probes for more after each window with work waiting and no 429, faster each time, back to the whole ceiling', () => {
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 1000);
		limiter.throttledAt(0, 10, undefined);
		const shares = [limiter.shareNow(10, 1000)];
		// Always more work than the share: every window has starts that waited.
		for (let window = 1; window <= 8; window++) {
			for (let t = (window - 1) * 1000 + 20; t < window * 1000; t += 1) limiter.reserve(t, 1000);
			shares.push(limiter.shareNow(window * 1000 + 10, 1000));
		}
		expect(shares[0]).toBe(500);
		const steps = shares.slice(1).map((share, i) => share - shares[i]);
		expect(steps[0]).toBeGreaterThan(0);
		expect(steps[1]).toBeGreaterThan(steps[0]);
		expect(shares[shares.length - 1]).toBe(1000);
	});

	it('does not grow a share it does not use', () => {
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 1000);
		limiter.throttledAt(0, 10, undefined);
		for (let t = 20; t < 5000; t += 100) limiter.reserve(t, 1000);
		expect(limiter.shareNow(5000, 1000)).toBe(500);
	});

	it('forgets its share after ten idle windows', () => {
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 1000);
		limiter.throttledAt(0, 10, undefined);
		limiter.reserve(9_000, 1000);
		expect(limiter.shareNow(9_000, 1000)).toBe(500);
		limiter.reserve(19_500, 1000);
		expect(limiter.shareNow(19_500, 1000)).toBe(1000);
	});

	it('keeps the whole ceiling when adaptation is off', () => {
		const limiter = new RateLimiter(1000, { ...DEFAULT_TUNING, adaptive: false });
		reserveEvery(limiter, 50, 0, 10, 100);
		limiter.throttledAt(490, 500, undefined);
		expect(limiter.shareNow(500, 100)).toBe(100);
	});
});

describe('a fleet sharing one budget (virtual time, Graph as a sliding window)', () => {
	// Three workers each getting 100,000 ids (154 requests) under a budget of 200 per 30 s, as test/e2e/queue does.
	const fleet = (requests: number, staggerMs = 0): Omit<FleetOptions, 'tuning'> => ({
		processes: 3,
		runs: [0, 1, 2].map((p) => ({ process: p, requests, startAt: p * staggerMs })),
		limit: 200,
		windowMs: 30_000,
		ceiling: 200,
		concurrency: 8,
		latencyMs: 50,
	});

	it('with the adaptive share: at most 2 % 429s and at least 85 % of the budget used', () => {
		const result = simulateFleet({ ...fleet(154), tuning: DEFAULT_TUNING });
		expect(result.admitted).toBe(3 * 154);
		expect(result.throttled / result.requests).toBeLessThanOrEqual(0.02);
		expect(result.rateOfCap).toBeGreaterThanOrEqual(0.85);
	});

	it('the per-process window of version 0.1 (whole budget at once, no share) gets many times more 429s', () => {
		const adaptive = simulateFleet({ ...fleet(154), tuning: DEFAULT_TUNING });
		const independent = simulateFleet({
			...fleet(154),
			tuning: { ...DEFAULT_TUNING, adaptive: false, burstFraction: 1 },
		});
		expect(independent.throttled).toBeGreaterThanOrEqual(4 * adaptive.throttled);
	});

	it('workers starting one after another all finish, and one left alone gets the budget back', () => {
		const result = simulateFleet({ ...fleet(400, 20_000), tuning: DEFAULT_TUNING });
		expect(result.admitted).toBe(3 * 400);
		expect(result.rateOfCap).toBeGreaterThanOrEqual(0.7);
		expect(result.throttled / result.requests).toBeLessThanOrEqual(0.03);
	});
});

describe('Semaphore', () => {
	it('runs at most `size` tasks at once and all of them', async () => {
		const semaphore = new Semaphore(3);
		let active = 0;
		let peak = 0;
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				semaphore.run(async () => {
					active++;
					peak = Math.max(peak, active);
					await new Promise((resolve) => setImmediate(resolve));
					active--;
					return i;
				}),
			),
		);
		expect(peak).toBe(3);
		expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
	});

	it('frees the slot when a task fails', async () => {
		const semaphore = new Semaphore(1);
		await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow(
			'boom',
		);
		await expect(semaphore.run(async () => 'next')).resolves.toBe('next');
	});
});
