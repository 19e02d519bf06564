import { DEFAULT_TUNING, RateLimiter } from '../../nodes/shared/throttle/rateLimiter';
import { Semaphore } from '../../nodes/shared/throttle/semaphore';
import { LegacyRateLimiter } from '../bench/fleetLegacy';
import {
	fleetOptions,
	measure,
	SCENARIOS,
	type Measures,
	type Scenario,
} from '../bench/fleetScenarios';
import { simulateFleet, type FleetResult } from '../bench/fleetSim';

/** Reserves `count` starts at `now` (as `count` requests queued at once would) and returns their start times. */
function startsAt(limiter: RateLimiter, count: number, now: number, ceiling: number): number[] {
	return Array.from({ length: count }, () => now + limiter.reserve(now, ceiling));
}

/** The most starts in any `windowMs`. */
function peak(starts: number[], windowMs: number): number {
	const sorted = [...starts].sort((a, b) => a - b);
	let most = 0;
	for (let i = 0, j = 0; i < sorted.length; i++) {
		while (sorted[i] - sorted[j] >= windowMs) j++;
		most = Math.max(most, i - j + 1);
	}
	return most;
}

describe('RateLimiter: the cap and the pace', () => {
	it('a process that has seen no 429 starts a quarter of the ceiling at once, then at the pace its answers allow', () => {
		const limiter = new RateLimiter(1000);
		// Before any answer: the ceiling's even pace (100 per 1,000 ms is one every 10 ms).
		expect(startsAt(limiter, 28, 0, 100)).toEqual([...new Array<number>(25).fill(0), 10, 20, 30]);
		// Answers in 4 ms: one start per answer latency (k is 1 at this ceiling), faster than the even pace.
		limiter.answeredAt(0, 4);
		expect(limiter.latencyNow()).toBe(4);
		expect(startsAt(limiter, 3, 30, 100)).toEqual([34, 38, 42]);
	});

	it('never has more than the ceiling in any window, whatever the callers, answers and 429s', () => {
		const limiter = new RateLimiter(1000);
		const starts: number[] = [];
		let now = 0;
		for (let i = 0; i < 2000; i++) {
			now += (i * 7919) % 13;
			const at = now + limiter.reserve(now, 20);
			starts.push(at);
			if (i % 7 === 0) limiter.answeredAt(at, at + 3);
			if (i % 97 === 0) limiter.throttledAt(at, at + 5, i % 2 === 0 ? 50 : undefined);
		}
		expect(peak(starts, 1000)).toBeLessThanOrEqual(20);
	});

	it('takes the whole part of a ceiling typed with decimals', () => {
		const limiter = new RateLimiter(1000);
		const starts = startsAt(limiter, 9, 0, 2.7);
		expect(peak(starts, 1000)).toBe(2);
		expect(starts[0]).toBe(0);
	});

	it('hands out start times in order', () => {
		const limiter = new RateLimiter(1000);
		const starts = [0, 0, 0, 5, 5, 2000, 2000].map((now) => now + limiter.reserve(now, 8));
		expect([...starts].sort((a, b) => a - b)).toEqual(starts);
	});

	it('holds everyone back after Graph said to wait', () => {
		const limiter = new RateLimiter(30_000);
		limiter.pauseUntil(5000);
		expect(limiter.holdAt(1000)).toBe(4000);
		expect(startsAt(limiter, 3, 1000, 1500)).toEqual([5000, 5000, 5000]);
		expect(limiter.holdAt(5000)).toBe(0);
	});

	it('forgets starts older than the window, and takes back a reservation that was not used', () => {
		const limiter = new RateLimiter(1000);
		for (let t = 0; t < 50_000; t += 10) limiter.reserve(t, 1000);
		// starts 49,010 … 49,990 are inside (49,000, 50,000]
		expect(limiter.countInWindow(50_000)).toBe(99);
		limiter.release(49_990);
		expect(limiter.countInWindow(50_000)).toBe(98);
		expect(limiter.countInWindow(60_000)).toBe(0);
	});
});

describe('RateLimiter: a share of a budget spent by others too', () => {
	/** A process that sent 80 starts from 0 (25 at once, then one every 10 ms) and met a 429 for its last one. */
	function throttledAfter80(): { limiter: RateLimiter; starts: number[]; at: number } {
		const limiter = new RateLimiter(1000);
		const starts = startsAt(limiter, 80, 0, 100);
		expect(starts[79]).toBe(550);
		limiter.throttledAt(550, 560, undefined);
		return { limiter, starts, at: 560 };
	}

	it('after a 429 counts on exactly what Graph admitted from it in the last window', () => {
		const { limiter } = throttledAfter80();
		// 80 started, 1 of them throttled: 79 admitted.
		expect(limiter.shareNow(100)).toBe(79);
	});

	it('within its share starts again as soon as its own window frees a start, at one per answer latency', () => {
		const { limiter, starts } = throttledAfter80();
		// The 429 came back 10 ms after its start: that is the latency now, and k is 1 at this ceiling.
		expect(limiter.latencyNow()).toBe(10);
		const next = startsAt(limiter, 7, 600, 100);
		expect(next[0]).toBe(starts[1] + 1000);
		// (Probes beyond the share join from 560 + 500 on.)
		expect(next.slice(1).map((at, i) => at - next[i])).toEqual(new Array<number>(6).fill(10));
	});

	it('a process that has only just started halves what it counted on instead of dropping to nothing', () => {
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 100);
		limiter.throttledAt(0, 50, 200);
		// A fresh process counts on a quarter of the ceiling (25); nothing admitted yet: half of it.
		expect(limiter.shareNow(100)).toBe(12);
		expect(limiter.holdAt(50)).toBe(200);
	});

	it('decreases once per event, and halves on a second event right after', () => {
		const { limiter } = throttledAfter80();
		// Started before the decrease: the same event.
		limiter.throttledAt(540, 565, undefined);
		expect(limiter.shareNow(100)).toBe(79);
		// Started after it and throttled within a quarter window: the others need more than that left them.
		limiter.throttledAt(566, 600, undefined);
		expect(limiter.shareNow(100)).toBe(39);
	});

	/** A ceiling of 1,000 (up to 5 in flight per latency): 300 starts from 0, answers in 20 ms, the last one a 429. */
	function probing(): { limiter: RateLimiter; at: number } {
		const limiter = new RateLimiter(1000);
		const first = startsAt(limiter, 300, 0, 1000);
		limiter.answeredAt(0, 20);
		const at = first[299] + 20;
		limiter.throttledAt(first[299], at, undefined);
		expect(limiter.shareNow(1000)).toBe(299);
		expect(limiter.latencyNow()).toBe(20);
		return { limiter, at };
	}

	it('beyond its share it probes half a window after a 429, one at a time per latency, wider for each probe admitted', () => {
		const { limiter, at } = probing();
		expect(limiter.probingFrom()).toBe(at + 500);
		// Within the window nothing of the share is free before 1,000: what starts earlier is a probe.
		const probes = startsAt(limiter, 3, at + 1, 1000);
		expect(probes).toEqual([at + 500, at + 520, at + 540]);
		// Two admitted: three may be in flight now, so the next ones do not wait a latency each.
		limiter.answeredAt(at + 500, at + 520);
		limiter.answeredAt(at + 520, at + 540);
		const wider = startsAt(limiter, 2, at + 541, 1000);
		expect(wider[1] - wider[0]).toBeLessThan(20);
	});

	it('probes less often while they keep finding nothing (up to two windows), as often as before otherwise', () => {
		// A ceiling of 10, throttled at its first request: it counts on 1 start per window.
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 10);
		limiter.throttledAt(0, 20, undefined);
		expect(limiter.shareNow(10)).toBe(1);
		const waits: number[] = [];
		let probe = 0;
		for (let i = 0; i < 3; i++) {
			// Work waiting: the share's start, then a probe beyond it, refused at once.
			const [own, beyond] = startsAt(limiter, 2, limiter.probingFrom(), 10);
			expect(beyond).toBeGreaterThanOrEqual(own);
			probe = beyond;
			limiter.throttledAt(probe, probe + 20, undefined);
			waits.push(limiter.probingFrom() - (probe + 20));
		}
		expect(waits).toEqual([1000, 2000, 2000]);
		// A 429 for the share's own traffic, not a probe, says nothing about room: back to half a window.
		const own = startsAt(limiter, 1, limiter.probingFrom(), 10)[0];
		limiter.throttledAt(own, own + 20, undefined);
		expect(limiter.probingFrom() - (own + 20)).toBe(500);
	});

	it('joining a window that others filled, it probes from Retry-After; throttled by its own traffic, half a window later', () => {
		// Others filled the window before this process started: the slot Graph frees in 300 ms is theirs.
		const late = new RateLimiter(10_000);
		const starts = startsAt(late, 20, 5_000, 100);
		late.throttledAt(starts[19], starts[19] + 10, 300);
		expect(late.probingFrom()).toBe(starts[19] + 10 + 300);
		// Its own start at 0 is the oldest in the window: the slot Graph frees at Retry-After is its own, which its
		// share takes back, so probes wait half a window as before.
		const own = new RateLimiter(10_000);
		own.reserve(0, 100);
		const more = startsAt(own, 20, 9_400, 100);
		own.throttledAt(more[19], more[19] + 10, 1_000);
		expect(own.probingFrom()).toBe(more[19] + 10 + 5_000);
	});

	it('forgets its share after ten idle windows', () => {
		const limiter = new RateLimiter(1000);
		limiter.reserve(0, 100);
		limiter.throttledAt(0, 10, undefined);
		limiter.reserve(9_000, 100);
		expect(limiter.shareNow(100)).toBe(12);
		limiter.reserve(19_500, 100);
		expect(limiter.shareNow(100)).toBe(100);
	});

	it('keeps the whole ceiling when adaptation is off', () => {
		const limiter = new RateLimiter(1000, { ...DEFAULT_TUNING, adaptive: false });
		const starts = startsAt(limiter, 50, 0, 100);
		limiter.throttledAt(starts[49], starts[49] + 10, undefined);
		expect(limiter.shareNow(100)).toBe(100);
	});
});

describe('a fleet sharing one budget (virtual time, the scenarios of issues 17 and 18)', () => {
	const floors = new Map<Scenario, FleetResult>();
	const chosen = (s: Scenario): Measures => {
		let floor = floors.get(s);
		if (!floor) {
			floor = simulateFleet(fleetOptions(s, { coordinated: true }));
			floors.set(s, floor);
		}
		return measure(s, { tuning: DEFAULT_TUNING }, floor);
	};
	const before = (s: Scenario): Measures =>
		measure(s, { limiter: (windowMs) => new LegacyRateLimiter(windowMs) });
	const named = (name: string): Scenario => {
		const found = SCENARIOS.find((s) => s.name === name);
		if (!found) throw new Error(`no scenario ${name}`);
		return found;
	};
	/** What no process-local rate control can meet here (test/bench/results/fleet.md, README "Running at scale"). */
	const MISSES = [
		'2 workers × 2, 3 × 22k ids, budget 200, together',
		'3 workers × 1, 3 × 100k ids, budget 200, 4 s apart, answers in 500 ms',
		'1 process, 1 × 65k ids, budget 200, together',
		'1 process, 1 × 100k ids, budget 200, together',
	];

	it.each(SCENARIOS.filter((s) => !MISSES.includes(s.name)).map((s) => [s.name, s]))(
		'%s: ≥ 90 %% of the cap, within 1.25 × the floor, ≤ 2 %% 429s, every request once',
		(_, s) => {
			const m = chosen(s);
			expect(m.throttledShare).toBeLessThanOrEqual(0.02);
			expect(m.spanMs).toBeLessThanOrEqual(m.allowedSpanMs);
			expect(m.meetsTarget).toBe(true);
			// The node gives up on a batch after 5 retries (Max Retries): none came near.
			expect(m.mostRetries).toBeLessThanOrEqual(2);
		},
	);

	it("issue 18: executions sharing a worker run near the window's floor (before: 78–79 % of the cap)", () => {
		for (const name of [
			'2 workers × 2, 3 × 60k ids, budget 200, together',
			'2 workers × 2, 3 × 100k ids, budget 200, together',
		]) {
			const s = named(name);
			expect(before(s).rateOfCap).toBeLessThan(0.8);
			expect(chosen(s).spanOverFloor).toBeLessThanOrEqual(1.15);
			expect(chosen(s).rateOfCap).toBeGreaterThanOrEqual(1);
		}
	});

	it('issue 17: workers starting 20 s apart get at least 90 % of the budget (before: 74 %), together still ≤ 2 % 429s', () => {
		const staggered = named('3 workers × 1, 3 × 1M ids, budget 1,500, 20 s apart');
		expect(before(staggered).rateOfCap).toBeLessThan(0.75);
		expect(chosen(staggered).rateOfCap).toBeGreaterThanOrEqual(0.9);
		expect(chosen(staggered).throttledShare).toBeLessThanOrEqual(0.02);
		// The queue e2e's staggered phase as it ran: the late worker probes from Retry-After (before: 84 % of the cap).
		const e2e = named('2 workers × 2, 3 × 100k ids, budget 200, 20 s apart, answers in 150 ms');
		expect(chosen(e2e).rateOfCap).toBeGreaterThanOrEqual(0.9);
		expect(chosen(e2e).throttledShare).toBeLessThanOrEqual(0.02);
		const together = named('3 workers × 1, 3 × 1M ids, budget 1,500, together');
		expect(chosen(together).throttledShare).toBeLessThanOrEqual(0.02);
	});

	it('executions on one worker share its budget: runs started together finish together', () => {
		for (const s of SCENARIOS.filter(
			(s) => s.topology.name === '2 workers × 2' && s.staggerMs === 0 && s.runs === 3,
		)) {
			const [first, , third] = chosen(s).runFinishedMs;
			expect(Math.abs(first - third)).toBeLessThanOrEqual(1000);
		}
	});

	it.each([50, 300, 500])(
		'a worker left alone with a long run when two short ones end gets the whole budget back (answers in %i ms)',
		(latencyMs) => {
			const fleet = {
				processes: 3,
				runs: [154, 154, 1539].map((requests, process) => ({ process, requests, startAt: 0 })),
				limit: 200,
				windowMs: 30_000,
				ceiling: 200,
				concurrency: 8,
				latencyMs,
			};
			const result = simulateFleet({ ...fleet, tuning: DEFAULT_TUNING });
			expect(result.admitted).toBe(154 + 154 + 1539);
			expect(result.rateOfCap).toBeGreaterThanOrEqual(0.95);
			expect(result.throttled / result.requests).toBeLessThanOrEqual(0.015);
			// Before: 82 % of the cap, the last worker's share grew by a step per window.
			const before = simulateFleet({
				...fleet,
				limiter: (windowMs) => new LegacyRateLimiter(windowMs),
			});
			expect(before.rateOfCap).toBeLessThan(0.83);
		},
	);

	it('the misses, and why no process-local control meets them', () => {
		// A process alone with less than a window's budget would need to send it all at once (its floor is 1.0 s);
		// it sends a quarter at once (5.7 s), because processes that start together cannot tell they are not alone
		// before the first 429: the whole ceiling at once costs 7.9 % 429s to three workers starting together.
		const alone = named('1 process, 1 × 100k ids, budget 200, together');
		expect(chosen(alone).floorMs).toBeLessThan(1100);
		expect(chosen(alone).spanMs).toBeLessThan(6000);
		const wholeAtOnce = { tuning: { ...DEFAULT_TUNING, freshBurst: 1 } };
		expect(measure(alone, wholeAtOnce).meetsTarget).toBe(true);
		const crowd = measure(named('3 workers × 1, 3 × 60k ids, budget 200, together'), wholeAtOnce);
		expect(crowd.throttledShare).toBeGreaterThan(0.07);
		// Answers in 500 ms: 12 of the 16 429s are at the first full window, when no process knows of another;
		// each had 4 requests in flight at the even pace of the budget (fewer would leave a process alone short of
		// it). The 4 others are one probe phase later. Before: 16 as well, and a slower run.
		const slowScenario = named(
			'3 workers × 1, 3 × 100k ids, budget 200, 4 s apart, answers in 500 ms',
		);
		const slow = chosen(slowScenario);
		expect(slow.throttled).toBe(16);
		expect(slow.throttledShare).toBeLessThan(0.034);
		expect(slow.spanMs).toBeLessThan(before(slowScenario).spanMs);
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
