/**
 * A fleet of n8n processes sharing one app's Graph budget, in virtual time. Each process has one limiter (as
 * `sharedLimiter` gives every execution in a process the same one) and runs one or more executions; each execution
 * is one Get Many with its own `concurrency` request slots, exactly as GraphClient runs it: every batch waits for a
 * slot (first come, first served), reserves a start from the limiter, gives the turn back and takes a new one when a
 * pause began meanwhile, and after a 429 frees its slot, waits `Retry-After` (at most Max Retry Wait) and queues
 * again behind the execution's other batches. Graph is a sliding window of `limit` requests per `windowMs` that
 * answers 429 with the whole seconds until a slot frees (as test/emulator does).
 *
 * Used to measure the rate control and compare options before proving the chosen one in n8n's queue mode
 * (test/e2e/queue.e2e.test.ts). Everything is deterministic: the same figures on any machine.
 */
import { RateLimiter, type LimiterTuning } from '../../nodes/shared/throttle/rateLimiter';

/** What the simulation needs from a process's limiter: RateLimiter's interface as GraphClient uses it. */
export interface FleetLimiter {
	reserve(now: number, ceiling: number): number;
	holdAt(now: number): number;
	release(at: number): void;
	throttledAt(startedAt: number, now: number, retryAfterMs: number | undefined): void;
	/** Every answer that is not a 429 (optional: the limiter of version 0.2 did not take it). */
	answeredAt?(startedAt: number, now: number): void;
}

/** One execution (one Get Many): `requests` getPresencesByUserId calls from `startAt` on `process`. */
export interface FleetRun {
	process: number;
	requests: number;
	startAt: number;
}

export interface FleetOptions {
	processes: number;
	runs: FleetRun[];
	/** Graph's budget for the app. */
	limit: number;
	windowMs: number;
	/** The limiter's window: GraphClient keeps it 2 % wider than Graph's. */
	limiterWindowMs?: number;
	/** What each execution asks its limiter for (its "Max Requests per 30 Seconds"). */
	ceiling: number;
	/** Request slots per execution (the node's Concurrency, 8 by default). */
	concurrency: number;
	latencyMs: number;
	/** The limiter each process gets; default: the real RateLimiter with this tuning. */
	limiter?: (windowMs: number, process: number) => FleetLimiter;
	tuning?: LimiterTuning;
	/**
	 * One limiter for the whole fleet with exactly Graph's window, not adaptive, no pacing: perfect coordination,
	 * every slot starting the moment Graph's window has room. Its span is the floor: the fastest the sliding window
	 * allows for these runs, starts, slots and latency.
	 */
	coordinated?: boolean;
	/** Longest single wait after a 429 (the node's Max Retry Wait, 180 s by default). */
	maxRetryWaitMs?: number;
}

export interface RunResult {
	startedAt: number;
	finishedAt: number;
	/** Most 429s any one of its batches met in a row (the node gives up after Max Retries, 5 by default). */
	mostRetries: number;
}

export interface FleetResult {
	/** Requests Graph answered, 429s included. */
	requests: number;
	throttled: number;
	admitted: number;
	/** From the first request to the last answer. */
	spanMs: number;
	/** Admitted requests per window over the span, over the budget: 1 = the cap's rate. */
	rateOfCap: number;
	/** The most Graph admitted in any one of its windows (never above `limit`, by construction). */
	peakInWindow: number;
	/** Per process, when its first request started and its last answer came. */
	processSpans: Array<{ first: number; last: number }>;
	runs: RunResult[];
	mostRetries: number;
}

/** `(⌈requests / limit⌉ − 1)` windows: the fastest a sliding window admits `requests` started together. */
export function windowFloorMs(requests: number, limit: number, windowMs: number): number {
	return Math.max(0, Math.ceil(requests / limit) - 1) * windowMs;
}

/** A binary heap of events by time, then by the order they were scheduled (so equal times run in order). */
class EventQueue {
	private readonly heap: Array<{ at: number; order: number; run: () => void }> = [];
	private order = 0;

	get size(): number {
		return this.heap.length;
	}

	push(at: number, run: () => void): void {
		const heap = this.heap;
		heap.push({ at, order: this.order++, run });
		let index = heap.length - 1;
		while (index > 0) {
			const parent = (index - 1) >> 1;
			if (!before(heap[index], heap[parent])) break;
			[heap[index], heap[parent]] = [heap[parent], heap[index]];
			index = parent;
		}
	}

	pop(): { at: number; run: () => void } {
		const heap = this.heap;
		const top = heap[0];
		const last = heap.pop() as (typeof heap)[number];
		if (heap.length > 0) {
			heap[0] = last;
			let index = 0;
			for (;;) {
				const left = 2 * index + 1;
				const right = left + 1;
				let smallest = index;
				if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
				if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
				if (smallest === index) break;
				[heap[index], heap[smallest]] = [heap[smallest], heap[index]];
				index = smallest;
			}
		}
		return top;
	}
}

function before(a: { at: number; order: number }, b: { at: number; order: number }): boolean {
	return a.at < b.at || (a.at === b.at && a.order < b.order);
}

export function simulateFleet(options: FleetOptions): FleetResult {
	const events = new EventQueue();
	let now = 0;
	const schedule = (at: number, run: () => void) => events.push(at, run);
	const maxRetryWaitMs = options.maxRetryWaitMs ?? 180_000;
	const limiterWindowMs = options.limiterWindowMs ?? Math.round(options.windowMs * 1.02);

	const admittedTimes: number[] = [];
	let admittedHead = 0;
	let requests = 0;
	let throttled = 0;
	/** Graph's answer to a request arriving at `at`: 0 admitted, else the ms until a slot frees. */
	const graph = (at: number): number => {
		while (
			admittedHead < admittedTimes.length &&
			admittedTimes[admittedHead] <= at - options.windowMs
		)
			admittedHead++;
		if (admittedTimes.length - admittedHead >= options.limit)
			return Math.max(
				1,
				admittedTimes[admittedTimes.length - options.limit] + options.windowMs - at,
			);
		admittedTimes.push(at);
		return 0;
	};

	const makeLimiter = (windowMs: number, process: number): FleetLimiter =>
		options.limiter?.(windowMs, process) ?? new RateLimiter(windowMs, options.tuning);
	const coordinated = options.coordinated
		? new RateLimiter(options.windowMs, {
				adaptive: false,
				freshBurst: 1,
				probePace: 1,
				inFlight: Infinity,
				minFraction: 1,
			})
		: undefined;
	const limiters = Array.from(
		{ length: options.processes },
		(_, process) => coordinated ?? makeLimiter(limiterWindowMs, process),
	);
	const processSpans = limiters.map(() => ({ first: Infinity, last: -Infinity }));

	const runs: RunResult[] = options.runs.map((run) => ({
		startedAt: run.startAt,
		finishedAt: NaN,
		mostRetries: 0,
	}));
	options.runs.forEach((run, runIndex) => {
		const limiter = limiters[run.process];
		const span = processSpans[run.process];
		const result = runs[runIndex];
		const ceiling = coordinated ? options.limit : options.ceiling;
		const queue: Array<{ retries: number }> = [];
		let active = 0;
		let left = run.requests;

		const pump = () => {
			while (active < options.concurrency && queue.length > 0) {
				active++;
				start(queue.shift() as { retries: number });
			}
		};
		const start = (batch: { retries: number }) => {
			const at = now + limiter.reserve(now, ceiling);
			schedule(at, () => {
				// A 429 elsewhere paused everyone while this batch waited: its turn is given back and taken anew.
				if (limiter.holdAt(now) > 0) {
					limiter.release(at);
					start(batch);
					return;
				}
				requests++;
				span.first = Math.min(span.first, now);
				const wait = graph(now);
				schedule(now + options.latencyMs, () => {
					span.last = Math.max(span.last, now);
					active--;
					if (wait === 0) {
						limiter.answeredAt?.(at, now);
						left--;
						if (left === 0) result.finishedAt = now;
						pump();
						return;
					}
					throttled++;
					batch.retries++;
					result.mostRetries = Math.max(result.mostRetries, batch.retries);
					const retryAfterMs = Math.min(Math.ceil(wait / 1000) * 1000, maxRetryWaitMs);
					limiter.throttledAt(at, now, retryAfterMs);
					pump();
					schedule(now + retryAfterMs, () => {
						queue.push(batch);
						pump();
					});
				});
			});
		};
		schedule(run.startAt, () => {
			for (let i = 0; i < run.requests; i++) queue.push({ retries: 0 });
			pump();
		});
	});

	while (events.size > 0) {
		const event = events.pop();
		now = event.at;
		event.run();
	}

	let peakInWindow = 0;
	for (let i = 0, j = 0; i < admittedTimes.length; i++) {
		while (admittedTimes[i] - admittedTimes[j] >= options.windowMs) j++;
		peakInWindow = Math.max(peakInWindow, i - j + 1);
	}
	const first = Math.min(...processSpans.map((span) => span.first));
	const last = Math.max(...processSpans.map((span) => span.last));
	const spanMs = last - first;
	const admitted = requests - throttled;
	return {
		requests,
		throttled,
		admitted,
		spanMs,
		rateOfCap: admitted / (spanMs / options.windowMs) / options.limit,
		peakInWindow,
		processSpans,
		runs,
		mostRetries: Math.max(0, ...runs.map((run) => run.mostRetries)),
	};
}
