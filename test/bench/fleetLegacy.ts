/**
 * The rate limiter as it was before issues 17 and 18 (nodes/shared/throttle/rateLimiter.ts at b71692f), kept
 * verbatim for `npm run bench:fleet` and the unit tests to compare against: a tenth of the budget at once and the
 * rest evenly paced, after a 429 a share of 90 % of what Graph admitted, more after each window with work waiting.
 */
import type { FleetLimiter } from './fleetSim';

export interface LegacyTuning {
	/** Take the share from 429s (rule 3); off, the process spends `ceiling` whatever others do. */
	adaptive: boolean;
	/** Starts allowed back to back, as a fraction of the share (1 = the whole window at once). */
	burstFraction: number;
	/** After a 429: share = decrease × what Graph admitted from this process in the last window. */
	decrease: number;
	/** First increase after a quiet window, as a fraction of the ceiling; doubles with each further quiet window. */
	probe: number;
	/** The share never falls below this fraction of the ceiling. */
	minFraction: number;
}

export const LEGACY_TUNING: Readonly<LegacyTuning> = {
	adaptive: true,
	burstFraction: 0.1,
	decrease: 0.9,
	probe: 0.1,
	minFraction: 0.02,
};

export class LegacyRateLimiter implements FleetLimiter {
	/** Start times in the last window, sorted; `head` is the first one still inside. */
	private readonly starts: number[] = [];
	private head = 0;
	/** Start times of requests that Graph answered with 429, sorted likewise. */
	private readonly throttled: number[] = [];
	private throttledHead = 0;
	private pausedUntil = 0;
	/** Theoretical arrival time of the next start at the paced rate (the GCRA form of a token bucket). */
	private tat = 0;
	/** Requests per window this process allows itself since the last 429; undefined: the whole ceiling. */
	private share: number | undefined;
	private lastDecrease = -Infinity;
	/** The ceiling of the last reservation: the share's floor is a fraction of it. */
	private ceiling = Infinity;
	/** The pause already folded into `tat`: after a pause the paced rate starts afresh, without a burst. */
	private pauseApplied = 0;
	private lastChange = 0;
	private quietWindows = 0;
	private lastReserve = 0;
	/** Some start since `lastChange` had to wait for the share: the process wants more than it has. */
	private backlogged = false;

	constructor(
		readonly windowMs: number,
		private readonly tuning: Readonly<LegacyTuning> = LEGACY_TUNING,
	) {}

	/**
	 * Reserves a start time at or after `now` and returns how long to wait for it. `ceiling` is per call so that
	 * a caller sharing the app with other tools may ask for less than Graph's ceiling.
	 */
	reserve(now: number, requestedCeiling: number): number {
		this.forget(now);
		// A ceiling typed with decimals (n8n's number field allows them) means its whole part.
		const ceiling = Math.max(1, Math.floor(requestedCeiling));
		this.ceiling = ceiling;
		// Idle for ten windows: whoever shared the budget then may be gone; start again from the whole ceiling.
		if (now - this.lastReserve > 10 * this.windowMs) this.share = undefined;
		this.lastReserve = now;
		const share = this.currentShare(now, ceiling);
		const interval = this.windowMs / share;
		const tolerance = (Math.max(1, Math.floor(share * this.tuning.burstFraction)) - 1) * interval;
		if (this.pausedUntil > this.pauseApplied) {
			this.tat = Math.max(this.tat, this.pausedUntil + tolerance);
			this.pauseApplied = this.pausedUntil;
		}
		let at = Math.max(now, this.pausedUntil, this.tat - tolerance, this.last() ?? 0);
		const inWindow = this.starts.length - this.head;
		if (inWindow >= share)
			at = Math.max(at, this.starts[this.starts.length - share] + this.windowMs);
		if (at > now) this.backlogged = true;
		this.tat = Math.max(this.tat, at) + interval;
		this.starts.push(at);
		return at - now;
	}

	/**
	 * Graph answered a request started at `startedAt` with 429: the app's budget is spent. Everyone sharing this
	 * limiter holds back until `retryAfterMs` from now, and the process takes a smaller share, once per event:
	 * 429s for requests started before the last decrease were caused by the traffic already decreased.
	 */
	throttledAt(startedAt: number, now: number, retryAfterMs: number | undefined): void {
		this.forget(now);
		insertSorted(this.throttled, startedAt, this.throttledHead);
		if (retryAfterMs !== undefined) this.pauseUntil(now + retryAfterMs);
		if (!this.tuning.adaptive || startedAt < this.lastDecrease) return;
		const admitted = this.startedBy(now) - (this.throttled.length - this.throttledHead);
		const floor = Math.max(1, Math.ceil(this.ceiling * this.tuning.minFraction));
		// What Graph admitted from this process is its share of the app's window; a process that has only just
		// started has had no time to be admitted much, so it halves what it had instead of dropping to nothing.
		const before = this.share ?? this.ceiling;
		this.share = Math.min(
			before,
			Math.max(floor, Math.floor(admitted * this.tuning.decrease), Math.floor(before / 2)),
		);
		this.lastDecrease = now;
		this.lastChange = now;
		this.quietWindows = 0;
		this.backlogged = false;
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
		for (let index = this.starts.length - 1; index >= this.head; index--) {
			if (this.starts[index] === at) {
				this.starts.splice(index, 1);
				return;
			}
			if (this.starts[index] < at) return;
		}
	}

	/** Starts that still count at `now`; for tests and reports. */
	countInWindow(now: number): number {
		this.forget(now);
		return this.starts.length - this.head;
	}

	/** The share this process allows itself now, for tests and reports. */
	shareNow(now: number, ceiling: number): number {
		return this.currentShare(now, ceiling);
	}

	private currentShare(now: number, ceiling: number): number {
		if (this.share === undefined) return ceiling;
		while (now - this.lastChange >= this.windowMs) {
			if (!this.backlogged) {
				// Nothing waited: the share was enough. Keep it; probing starts again from the next wait.
				this.lastChange = now;
				this.quietWindows = 0;
				break;
			}
			this.quietWindows++;
			this.share += Math.max(
				1,
				Math.ceil((ceiling - this.share) * this.tuning.probe * 2 ** (this.quietWindows - 1)),
			);
			this.lastChange += this.windowMs;
			this.backlogged = false;
			if (this.share >= ceiling) {
				this.share = undefined;
				return ceiling;
			}
		}
		return Math.max(1, Math.min(this.share, ceiling));
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
