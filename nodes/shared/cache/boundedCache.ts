/**
 * What the process keeps per credential or per app (MSAL applications with their tokens, rate
 * limiters) must not outlive its use: a rotated secret must not stay in memory with its tokens, a
 * credential nobody uses any more must go, and many credentials must not push out one still in use.
 * So entries are keyed by an identity (who: cloud, tenant, client) and carry a version (what: a
 * hash of the secret or key); a new version replaces the old entry at once, an entry unused for
 * `idleMs` goes, and beyond `maxEntries` the least recently used entry goes, unless it is in use.
 *
 * Time is passed in, so the policy is tested without waiting. There is no timer: idle entries are
 * dropped at the next access to the cache (the node may not start timers of its own).
 */

export interface CachePolicy {
	/** Entries kept at most, unless every one of them is in use. */
	maxEntries: number;
	/** An entry not used for this long is dropped. */
	idleMs: number;
}

export interface CacheHooks<V> {
	/**
	 * Whether an entry is still needed whatever its age (a token request in flight, a rate limiter
	 * with starts in its window): never evicted for space or idleness. A new version still replaces
	 * it, because the old secret must go.
	 */
	inUse?: (value: V, now: number) => boolean;
}

interface Entry<V> {
	value: V;
	version: string;
	usedAt: number;
}

export class BoundedCache<V> {
	/** In order of last use, oldest first (a Map keeps insertion order; a use re-inserts). */
	private readonly entries = new Map<string, Entry<V>>();

	constructor(
		readonly policy: Readonly<CachePolicy>,
		private readonly hooks: CacheHooks<V> = {},
	) {
		if (!(Number.isInteger(policy.maxEntries) && policy.maxEntries >= 1))
			throw new RangeError(`maxEntries must be a whole number >= 1, got ${policy.maxEntries}`);
		if (!(policy.idleMs > 0)) throw new RangeError(`idleMs must be > 0, got ${policy.idleMs}`);
	}

	get size(): number {
		return this.entries.size;
	}

	has(key: string): boolean {
		return this.entries.has(key);
	}

	/**
	 * The value for `key` at `version`: the cached one (now the most recently used), or a new one
	 * from `create` when there is none, when the cached one has another version (it is dropped), or
	 * when it sat idle too long.
	 */
	obtain(key: string, version: string, now: number, create: () => V): V {
		this.dropIdle(now);
		const known = this.entries.get(key);
		if (known) {
			this.entries.delete(key);
			if (known.version === version) {
				known.usedAt = now;
				this.entries.set(key, known);
				return known.value;
			}
		}
		const value = create();
		this.entries.set(key, { value, version, usedAt: now });
		this.makeRoom(key, now);
		return value;
	}

	/** Drops every entry unused for `idleMs` that is not in use. */
	dropIdle(now: number): void {
		for (const [key, entry] of this.entries) {
			// Later entries were used more recently: none of them is idle either.
			if (now - entry.usedAt < this.policy.idleMs) break;
			if (!this.isInUse(entry, now)) this.entries.delete(key);
		}
	}

	/** Beyond the bound, the least recently used entries that are not in use go (never `keep`). */
	private makeRoom(keep: string, now: number): void {
		if (this.entries.size <= this.policy.maxEntries) return;
		for (const [key, entry] of this.entries) {
			if (this.entries.size <= this.policy.maxEntries) return;
			if (key !== keep && !this.isInUse(entry, now)) this.entries.delete(key);
		}
	}

	private isInUse(entry: Entry<V>, now: number): boolean {
		return this.hooks.inUse?.(entry.value, now) ?? false;
	}
}
