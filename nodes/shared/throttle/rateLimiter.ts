import { BoundedCache, type CachePolicy } from '../cache/boundedCache';

/**
 * The request budget this process keeps for one app in one tenant of one cloud. Graph allows 1,500
 * requests per 30 s to the app, whoever sends them: every execution in this process (they share one
 * limiter), other n8n workers, other tools on the same app registration. Nothing is coordinated
 * between processes (no Redis client, no shared memory): a 429 is the only sign of the others, so
 * the rules are about what this process learns from Graph.
 *
 * 1. **A hard cap**: at most `ceiling` starts in any `windowMs` (a little wider than Graph's).
 * 2. **A share, used as Graph's window allows**: what Graph admitted from this process in a full
 *    window is what it can count on; within that share it repeats its own window in whatever
 *    pattern it had (what went at once comes back one window later), because the others do the same
 *    and together they fill Graph's window. After a 429 the share is what Graph admitted from this
 *    process in the last window, at most halving per event. A process that has seen no 429 counts
 *    on a quarter of the ceiling at once: four processes starting together still fit.
 * 3. **Probes for the rest**: starts beyond the share are paced (the whole ceiling in a third of a
 *    window) and begin half a window after a 429, later (up to two windows) while they keep being
 *    refused at once, so a process takes what another one left within seconds, and a saturated
 *    fleet meets about one probe 429 per process per window or two. A process that joins late (its
 *    first 429 comes from a window the others filled before it started) probes from Retry-After:
 *    their slots free from then on, and half a window would leave them unused.
 * 4. **Little in flight where Graph may refuse**: a request sent into a full window is a 429, and
 *    so is everything in flight when the first 429 comes back. So apart from a fresh process's
 *    first burst, the share's traffic starts at most `k` per answer latency (k is 0.5 % of the
 *    ceiling, at least 1), never slower than the share's even pace; probes after a 429 start one
 *    per latency and widen as Graph admits them (one more per that many admitted), so a probe into
 *    a full window costs one 429 and a window with room is used at full speed within a few answers.
 *
 * Reservations are handed out in order, so executions sharing the process share its budget without
 * starving.
 */
export interface LimiterTuning {
	/**
	 * Learn a share from 429s and probe for more; off, the process spends `ceiling` whatever others
	 * do.
	 */
	adaptive: boolean;
	/** What a process that has seen no 429 starts at once, as a fraction of the ceiling. */
	freshBurst: number;
	/** Starts beyond the share are paced at this many times the ceiling's even pace. */
	probePace: number;
	/**
	 * The share's starts per answer latency (beyond a fresh burst), as a fraction of the ceiling (at
	 * least 1); Infinity: no cap, and probes are not paced by latency either.
	 */
	inFlight: number;
	/** The share never falls below this fraction of the ceiling. */
	minFraction: number;
}

export const DEFAULT_TUNING: Readonly<LimiterTuning> = {
	adaptive: true,
	freshBurst: 0.25,
	probePace: 3,
	inFlight: 0.005,
	minFraction: 0.02,
};

/** Latency assumed until the first answer. */
const INITIAL_LATENCY_MS = 100;
/** Weight of a new latency sample: a few answers settle it, one slow answer does not. */
const LATENCY_WEIGHT = 0.2;
/**
 * Probing resumes this many windows after a 429, doubling up to the maximum while it finds nothing.
 */
const PROBE_BACKOFF_WINDOWS = 0.5;
const MAX_PROBE_BACKOFF_WINDOWS = 2;
/**
 * Probes admitted in a phase for it to count as having found room (more than the 2 % of a wider
 * window).
 */
const FOUND_ROOM = 2;
/**
 * A second 429 event this soon (in windows) after a decrease: the share was still too big, halve
 * it.
 */
const REPEAT_WINDOWS = 0.25;
/**
 * Retry-After's grain (whole seconds): a start of this process's own that Graph frees at Retry-After
 * leaves this process's window (a little wider than Graph's) less than this after it.
 */
const RETRY_AFTER_GRAIN_MS = 1000;
/** Recent probe starts kept to pace probes by latency. */
const PROBES_KEPT = 64;

export class RateLimiter {
	/** Start times in the last window, sorted; `head` is the first one still inside. */
	private readonly starts: number[] = [];
	private head = 0;
	/** Start times of requests that Graph answered with 429, sorted likewise. */
	private readonly throttled: number[] = [];
	private throttledHead = 0;
	private pausedUntil = 0;
	/**
	 * Requests per window this process can count on since the last 429; undefined: none seen (fresh).
	 */
	private share: number | undefined;
	/**
	 * The ceiling of the last reservation: the share's floor and the fresh burst are fractions of it.
	 */
	private ceiling = Infinity;
	private lastDecrease = -Infinity;
	private lastReserve = -Infinity;
	private latencyMs: number | undefined;
	/** Probes start no earlier than this; `probeBackoff` windows after the last 429. */
	private probeFrom = 0;
	private probeBackoff = PROBE_BACKOFF_WINDOWS;
	/** Theoretical arrival time of the next probe at the probe pace. */
	private probeTat = 0;
	/** Recent probe start times, sorted, and how many of this phase's Graph admitted. */
	private readonly probes: number[] = [];
	private probesAdmitted = 0;
	/** The share set at the last 429: what this phase's probes found is measured from it. */
	private phaseBase = 0;

	constructor(
		readonly windowMs: number,
		private readonly tuning: Readonly<LimiterTuning> = DEFAULT_TUNING,
	) {}

	/**
	 * Reserves a start time at or after `now` and returns how long to wait for it. `ceiling` is per
	 * call so that a caller sharing the app with other tools may ask for less than Graph's ceiling.
	 */
	reserve(now: number, requestedCeiling: number): number {
		this.forget(now);
		// A ceiling typed with decimals (n8n's number field allows them) means its whole part.
		const ceiling = Math.max(1, Math.floor(requestedCeiling));
		this.ceiling = ceiling;
		// Idle for ten windows: whoever shared the budget then may be gone; start again as a fresh
		// process.
		if (now - this.lastReserve > 10 * this.windowMs) {
			this.share = undefined;
			this.probeBackoff = PROBE_BACKOFF_WINDOWS;
			this.probeFrom = 0;
		}
		this.lastReserve = now;
		const fresh = this.share === undefined;
		const share = Math.min(ceiling, this.share ?? this.freshShare(ceiling));
		const inWindow = this.starts.length - this.head;
		const k = this.inFlightCap(ceiling);

		const base = Math.max(now, this.pausedUntil, this.last() ?? -Infinity);
		let earliest = base;
		if (!(fresh && inWindow < share) && inWindow >= k) {
			// k starts per latency, but never slower than the even pace of the share (of the ceiling
			// while fresh): a slow Graph must not shrink the budget a process gets, it only means more in
			// flight.
			const evenSpacing = (k * this.windowMs) / (fresh ? ceiling : share);
			const spacing = Math.min(this.latencyMs ?? INITIAL_LATENCY_MS, evenSpacing);
			earliest = Math.max(earliest, this.starts[this.starts.length - k] + spacing);
		}

		// Within the share: as this process's own window allows.
		let at = earliest;
		if (inWindow >= share) {
			at = Math.max(at, this.starts[this.starts.length - share] + this.windowMs);
			// The share is spent: beyond it, a probe if one may start sooner. After a 429 probes keep
			// their own count in flight (they widen as Graph admits them), so a slow Graph cannot hold a
			// process that found room to k per latency for good.
			if (share < ceiling) {
				const probeAt = Math.ceil(this.probeAt(fresh ? earliest : base, ceiling, fresh, inWindow));
				if (probeAt < at) {
					this.probeTat = probeAt + this.windowMs / (ceiling * this.tuning.probePace);
					this.probes.push(probeAt);
					if (this.probes.length > PROBES_KEPT)
						this.probes.splice(0, this.probes.length - PROBES_KEPT);
					this.starts.push(probeAt);
					return probeAt - now;
				}
			}
		}
		// Whole milliseconds: the caller adds the delay to `now` and hands the sum back (release,
		// answeredAt), which must equal what is stored here.
		at = Math.ceil(at);
		this.starts.push(at);
		return at - now;
	}

	/**
	 * Graph answered a request started at `startedAt` with anything but 429: its latency, and a probe
	 * that found room.
	 */
	answeredAt(startedAt: number, now: number): void {
		this.sampleLatency(startedAt, now);
		if (startedAt > this.lastDecrease && this.probes.includes(startedAt)) this.probesAdmitted++;
	}

	/**
	 * Graph answered a request started at `startedAt` with 429: the app's budget is spent. Everyone
	 * sharing this limiter holds back until `retryAfterMs` from now, and the process takes as its
	 * share what Graph admitted from it in the last window, once per event: 429s for requests started
	 * before the last decrease were caused by the traffic already decreased.
	 */
	throttledAt(startedAt: number, now: number, retryAfterMs: number | undefined): void {
		this.forget(now);
		this.sampleLatency(startedAt, now);
		insertSorted(this.throttled, startedAt, this.throttledHead);
		if (retryAfterMs !== undefined) this.pauseUntil(now + retryAfterMs);
		if (!this.tuning.adaptive || startedAt <= this.lastDecrease) return;
		const admitted = this.startedBy(now) - (this.throttled.length - this.throttledHead);
		const floor = Math.max(1, Math.ceil(this.ceiling * this.tuning.minFraction));
		const fresh = this.share === undefined;
		const before = this.share ?? this.freshShare(this.ceiling);
		const half = Math.max(floor, Math.floor(before / 2));
		let next = Math.max(floor, admitted, half);
		// Throttled again right after a decrease: the others need more than that left them; do not
		// creep down.
		if (now - this.lastDecrease < REPEAT_WINDOWS * this.windowMs) next = Math.min(next, half);
		this.share = Math.min(this.ceiling, next);
		// A probe refused before the phase found room: the fleet is saturated, probe less often. Any
		// other 429 (a fresh process's first, the share's own traffic meeting a newcomer) says nothing
		// about room.
		const probeFound = admitted - this.phaseBase >= FOUND_ROOM;
		this.probeBackoff =
			!fresh && !probeFound && this.probes.includes(startedAt)
				? Math.min(MAX_PROBE_BACKOFF_WINDOWS, 2 * this.probeBackoff)
				: PROBE_BACKOFF_WINDOWS;
		this.probeFrom =
			fresh && retryAfterMs !== undefined && this.joinedLate(now + retryAfterMs)
				? now + retryAfterMs
				: now + this.probeBackoff * this.windowMs;
		this.phaseBase = this.share;
		this.probesAdmitted = 0;
		this.lastDecrease = now;
	}

	/** Nobody sharing this budget starts before `time`. */
	pauseUntil(time: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, time);
	}

	/** How long a start reserved earlier must still hold back: a pause may have begun since. */
	holdAt(now: number): number {
		return Math.max(0, this.pausedUntil - now);
	}

	/** Gives back a reservation that was not used (cancelled, or re-reserved after a pause). */
	release(at: number): void {
		removeFromEnd(this.probes, at, 0);
		removeFromEnd(this.starts, at, this.head);
	}

	/** Starts that still count at `now`; for tests and reports. */
	countInWindow(now: number): number {
		this.forget(now);
		return this.starts.length - this.head;
	}

	/**
	 * The share this process counts on now (the whole ceiling while it has seen no 429), for tests
	 * and reports.
	 */
	shareNow(ceiling: number): number {
		return Math.min(Math.max(1, Math.floor(ceiling)), this.share ?? Infinity);
	}

	/** The estimated answer latency, for tests and reports. */
	latencyNow(): number | undefined {
		return this.latencyMs;
	}

	/** When starts beyond the share may begin again, for tests and reports. */
	probingFrom(): number {
		return this.probeFrom;
	}

	/**
	 * The slot Graph frees at `freeAt` is another process's: this process's own oldest start in the
	 * window leaves it later. Then the others filled the window before this process started, and
	 * what they sent leaves it from `freeAt` on.
	 */
	private joinedLate(freeAt: number): boolean {
		// Nothing of its own in the window: whatever Graph frees is another process's.
		if (this.starts.length === this.head) return true;
		return this.starts[this.head] + this.windowMs > freeAt + RETRY_AFTER_GRAIN_MS;
	}

	private freshShare(ceiling: number): number {
		return Math.max(1, Math.floor(ceiling * this.tuning.freshBurst));
	}

	private inFlightCap(ceiling: number): number {
		return Number.isFinite(this.tuning.inFlight)
			? Math.max(1, Math.round(ceiling * this.tuning.inFlight))
			: Infinity;
	}

	/**
	 * The earliest start beyond the share: paced, after the probe backoff, never over the ceiling.
	 */
	private probeAt(earliest: number, ceiling: number, fresh: boolean, inWindow: number): number {
		let at = Math.max(earliest, this.probeTat, this.tuning.adaptive ? this.probeFrom : 0);
		if (inWindow >= ceiling)
			at = Math.max(at, this.starts[this.starts.length - ceiling] + this.windowMs);
		if (!fresh && Number.isFinite(this.tuning.inFlight)) {
			// After a 429 probes start one at a time per latency and widen as Graph admits them, so a
			// probe into a full window costs one 429, and a window with room is found at full speed
			// within a few answers.
			const width = this.probeWidth();
			if (this.probes.length >= width)
				at = Math.max(
					at,
					this.probes[this.probes.length - width] + (this.latencyMs ?? INITIAL_LATENCY_MS),
				);
		}
		return at;
	}

	/**
	 * Probes in flight: one after a 429, one more per that many admitted since (so about √(2 ×
	 * admitted)).
	 */
	private probeWidth(): number {
		return 1 + Math.floor(Math.sqrt(2 * this.probesAdmitted));
	}

	private sampleLatency(startedAt: number, now: number): void {
		const sample = Math.max(0, now - startedAt);
		this.latencyMs =
			this.latencyMs === undefined
				? sample
				: (1 - LATENCY_WEIGHT) * this.latencyMs + LATENCY_WEIGHT * sample;
	}

	/** Starts in the window that have happened by `now` (later ones are reserved, not sent). */
	private startedBy(now: number): number {
		let low = this.head;
		let high = this.starts.length;
		while (low < high) {
			const middle = (low + high) >>> 1;
			if (this.starts[middle] <= now) low = middle + 1;
			else high = middle;
		}
		return low - this.head;
	}

	private last(): number | undefined {
		return this.starts.length > this.head ? this.starts[this.starts.length - 1] : undefined;
	}

	/** Starts at or before `now - windowMs` can no longer limit any start at or after `now`. */
	private forget(now: number): void {
		const edge = now - this.windowMs;
		while (this.head < this.starts.length && this.starts[this.head] <= edge) this.head++;
		while (this.throttledHead < this.throttled.length && this.throttled[this.throttledHead] <= edge)
			this.throttledHead++;
		if (this.head > 1024 && this.head * 2 > this.starts.length) {
			this.starts.splice(0, this.head);
			this.head = 0;
		}
		if (this.throttledHead > 1024 && this.throttledHead * 2 > this.throttled.length) {
			this.throttled.splice(0, this.throttledHead);
			this.throttledHead = 0;
		}
	}
}

/** Inserts into a sorted array, scanning from the end (429s arrive roughly in start order). */
function insertSorted(values: number[], value: number, from: number): void {
	let index = values.length;
	while (index > from && values[index - 1] > value) index--;
	values.splice(index, 0, value);
}

/**
 * Removes one `value` from a sorted array, scanning from the end (released reservations are
 * recent).
 */
function removeFromEnd(values: number[], value: number, from: number): void {
	for (let index = values.length - 1; index >= from; index--) {
		if (values[index] === value) {
			values.splice(index, 1);
			return;
		}
		if (values[index] < value) return;
	}
}

/**
 * Limiters kept: one per budget key (cloud + tenant + app). A limiter with starts in its window or a
 * pause ahead is in use and stays; one unused for ten minutes goes (after ten windows without a
 * request it starts again from the whole budget anyway, so nothing is lost); beyond 1,000 budgets
 * the least recently used idle one goes.
 */
export const LIMITER_CACHE_POLICY: Readonly<CachePolicy> = {
	maxEntries: 1000,
	idleMs: 10 * 60_000,
};

const limiters = new BoundedCache<RateLimiter>(LIMITER_CACHE_POLICY, {
	inUse: (limiter, now) => limiter.countInWindow(now) > 0 || limiter.holdAt(now) > 0,
});

/**
 * The limiter of a budget key (cloud + tenant + app), shared by every execution in the process.
 * Callers look it up for each use rather than keeping it, so that a limiter dropped for idleness is
 * never used beside its successor.
 */
export function sharedLimiter(key: string, windowMs: number, now = Date.now()): RateLimiter {
	return limiters.obtain(`${key}|${windowMs}`, '', now, () => new RateLimiter(windowMs));
}
