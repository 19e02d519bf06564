/**
 * A sliding-window budget shared by everything in this process that talks to Graph as one app in one
 * tenant: at most `limit` requests start within any `windowMs`. Callers reserve a start time and wait until
 * it; reservations are handed out in order, so the log stays sorted and nobody starves.
 */
export class SlidingWindowLimiter {
	private readonly starts: number[] = [];
	private head = 0;
	private pausedUntil = 0;

	constructor(readonly windowMs: number) {}

	/**
	 * Reserves a start time at or after `now` that keeps at most `limit` starts in any window, and returns
	 * how long to wait for it. `limit` is per call so that a caller sharing the app with other tools may
	 * ask for less than Graph's ceiling.
	 */
	reserve(now: number, limit: number): number {
		this.forget(now);
		let at = Math.max(now, this.pausedUntil, this.last() ?? 0);
		const inWindow = this.starts.length - this.head;
		if (inWindow >= limit) {
			at = Math.max(at, this.starts[this.starts.length - limit] + this.windowMs);
		}
		this.starts.push(at);
		return at - now;
	}

	/** Graph said "wait" (429 with Retry-After): nobody sharing this budget starts before then. */
	pauseUntil(time: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, time);
	}

	/** Starts that still count at `now`; for tests and reports. */
	countInWindow(now: number): number {
		this.forget(now);
		return this.starts.length - this.head;
	}

	private last(): number | undefined {
		return this.starts.length > this.head ? this.starts[this.starts.length - 1] : undefined;
	}

	/** Starts at or before `now - windowMs` can no longer limit any start at or after `now`. */
	private forget(now: number): void {
		while (this.head < this.starts.length && this.starts[this.head] <= now - this.windowMs) this.head++;
		if (this.head > 1024 && this.head * 2 > this.starts.length) {
			this.starts.splice(0, this.head);
			this.head = 0;
		}
	}
}

const limiters = new Map<string, SlidingWindowLimiter>();

/** One limiter per budget key (cloud + tenant + app) for the life of the process. */
export function sharedLimiter(key: string, windowMs: number): SlidingWindowLimiter {
	const mapKey = `${key}|${windowMs}`;
	let limiter = limiters.get(mapKey);
	if (!limiter) {
		limiter = new SlidingWindowLimiter(windowMs);
		limiters.set(mapKey, limiter);
	}
	return limiter;
}

/** Runs at most `size` tasks at once, first come first served. */
export class Semaphore {
	private active = 0;
	private readonly waiting: Array<() => void> = [];

	constructor(private readonly size: number) {}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
		else this.active++;
		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			if (next) next();
			else this.active--;
		}
	}
}
