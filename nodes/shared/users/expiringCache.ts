/**
 * A map whose entries expire after `ttlMs` and which never holds more than `maxEntries`: the oldest
 * entry goes first. Pure (time is passed in), so the node's name cache is bounded in time and size
 * whatever a workflow asks for.
 */
export class ExpiringCache<V> {
	/** Insertion order is age order: a re-set entry moves to the end. */
	private readonly entries = new Map<string, { value: V; at: number }>();

	constructor(
		readonly ttlMs: number,
		readonly maxEntries: number,
	) {
		if (!(ttlMs > 0) || !(maxEntries >= 1))
			throw new RangeError('ExpiringCache needs ttlMs > 0 and maxEntries >= 1');
	}

	/** The value, or undefined when there is none or it has expired. */
	get(key: string, now: number): V | undefined {
		const entry = this.entries.get(key);
		if (entry === undefined) return undefined;
		if (now - entry.at >= this.ttlMs) {
			this.entries.delete(key);
			return undefined;
		}
		return entry.value;
	}

	has(key: string, now: number): boolean {
		return this.get(key, now) !== undefined;
	}

	set(key: string, value: V, now: number): void {
		this.entries.delete(key);
		this.entries.set(key, { value, at: now });
		while (this.entries.size > this.maxEntries) {
			const oldest = this.entries.keys().next();
			if (oldest.done) break;
			this.entries.delete(oldest.value);
		}
	}

	get size(): number {
		return this.entries.size;
	}

	clear(): void {
		this.entries.clear();
	}
}
