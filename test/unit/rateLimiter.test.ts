import { Semaphore, SlidingWindowLimiter } from '../../nodes/shared/logic/rateLimiter';

describe('SlidingWindowLimiter', () => {
	it('lets `limit` requests start at once, then one per freed slot', () => {
		const limiter = new SlidingWindowLimiter(30_000);
		const delays = Array.from({ length: 1503 }, () => limiter.reserve(1000, 1500));
		expect(delays.slice(0, 1500).every((delay) => delay === 0)).toBe(true);
		expect(delays.slice(1500)).toEqual([30_000, 30_000, 30_000]);
	});

	it('never has more than `limit` starts in any window', () => {
		const limiter = new SlidingWindowLimiter(1000);
		const starts: number[] = [];
		let now = 0;
		for (let i = 0; i < 500; i++) {
			now += Math.floor((i * 7919) % 13);
			starts.push(now + limiter.reserve(now, 20));
		}
		starts.sort((a, b) => a - b);
		for (let i = 20; i < starts.length; i++) expect(starts[i] - starts[i - 20]).toBeGreaterThanOrEqual(1000);
	});

	it('hands out start times in order', () => {
		const limiter = new SlidingWindowLimiter(1000);
		const starts = [0, 0, 0, 5, 5, 2000].map((now) => now + limiter.reserve(now, 2));
		expect(starts).toEqual([0, 0, 1000, 1000, 2000, 2000]);
	});

	it('holds everyone back after Graph said to wait', () => {
		const limiter = new SlidingWindowLimiter(30_000);
		limiter.pauseUntil(5000);
		expect(limiter.reserve(1000, 1500)).toBe(4000);
		expect(limiter.reserve(6000, 1500)).toBe(0);
	});

	it('forgets starts older than the window', () => {
		const limiter = new SlidingWindowLimiter(1000);
		for (let i = 0; i < 5000; i++) limiter.reserve(i * 10, 1000);
		// starts 49,010 … 49,990 are inside (49,000, 50,000]
		expect(limiter.countInWindow(50_000)).toBe(99);
		expect(limiter.countInWindow(60_000)).toBe(0);
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
		await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		await expect(semaphore.run(async () => 'next')).resolves.toBe('next');
	});
});
