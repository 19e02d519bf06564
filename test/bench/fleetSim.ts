/**
 * A fleet of processes sharing one app's Graph budget, in virtual time: each process has its own RateLimiter
 * (the real one from nodes/shared/throttle) and `concurrency` request slots, and Graph is a sliding window of
 * `limit` requests per `windowMs` that answers 429 with the seconds until a slot frees (as test/emulator does).
 * Used to compare rate-control options before proving the chosen one in n8n's queue mode (test/e2e/queue).
 */
import { RateLimiter, type LimiterTuning } from '../../nodes/shared/throttle/rateLimiter';

export interface FleetOptions {
	processes: number;
	/** Requests each process has to get through. */
	requestsEach: number;
	/** Graph's budget for the app. */
	limit: number;
	windowMs: number;
	/** What each process asks its limiter for (its "max requests per 30 s"). */
	ceiling: number;
	concurrency: number;
	latencyMs: number;
	/** When each process starts, ms. */
	startAt?: (process: number) => number;
	tuning: LimiterTuning;
}

export interface FleetResult {
	/** Requests Graph answered, 429s included. */
	requests: number;
	throttled: number;
	/** From the first request to the last answer. */
	elapsedMs: number;
	/** Requests Graph admitted per window, over the budget: 1 = the whole budget used. */
	throughput: number;
	/** When each process finished. */
	finishedAt: number[];
}

interface Event {
	at: number;
	order: number;
	run: () => void;
}

export function simulateFleet(options: FleetOptions): FleetResult {
	const events: Event[] = [];
	let order = 0;
	let now = 0;
	const schedule = (at: number, run: () => void) => {
		const event = { at, order: order++, run };
		let index = events.length;
		while (
			index > 0 &&
			(events[index - 1].at > at ||
				(events[index - 1].at === at && events[index - 1].order > event.order))
		)
			index--;
		events.splice(index, 0, event);
	};

	const admitted: number[] = [];
	let admittedHead = 0;
	let requests = 0;
	let throttled = 0;
	let first = Infinity;
	let last = 0;
	/** Graph's answer to a request arriving at `at`: 0 admitted, else the ms until a slot frees. */
	const graph = (at: number): number => {
		while (admittedHead < admitted.length && admitted[admittedHead] <= at - options.windowMs)
			admittedHead++;
		if (admitted.length - admittedHead >= options.limit)
			return Math.max(1, admitted[admitted.length - options.limit] + options.windowMs - at);
		admitted.push(at);
		return 0;
	};

	const finishedAt: number[] = [];
	for (let p = 0; p < options.processes; p++) {
		const limiter = new RateLimiter(options.windowMs, options.tuning);
		let left = options.requestsEach;
		let active = 0;
		const slot = () => {
			if (left === 0) {
				if (active === 0 && finishedAt[p] === undefined) finishedAt[p] = now;
				return;
			}
			left--;
			active++;
			attempt();
		};
		const attempt = () => {
			const at = now + limiter.reserve(now, options.ceiling);
			schedule(at, () => {
				if (limiter.holdAt(now) > 0) {
					limiter.release(at);
					attempt();
					return;
				}
				requests++;
				first = Math.min(first, now);
				const wait = graph(now);
				schedule(now + options.latencyMs, () => {
					last = Math.max(last, now);
					if (wait === 0) {
						active--;
						slot();
						return;
					}
					throttled++;
					const retryAfterMs = Math.ceil(wait / 1000) * 1000;
					limiter.throttledAt(at, now, retryAfterMs);
					schedule(now + retryAfterMs, attempt);
				});
			});
		};
		schedule(options.startAt?.(p) ?? 0, () => {
			for (let c = 0; c < options.concurrency; c++) slot();
		});
	}
	while (events.length > 0) {
		const event = events.shift() as Event;
		now = event.at;
		event.run();
	}
	const elapsedMs = last - first;
	const total = options.processes * options.requestsEach;
	return {
		requests,
		throttled,
		elapsedMs,
		throughput: total / (elapsedMs / options.windowMs) / options.limit,
		finishedAt,
	};
}
