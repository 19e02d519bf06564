import { BoundedCache } from '../../nodes/shared/cache/boundedCache';

const MINUTE = 60_000;

/** A cache of named values; `made` lists every value `create` was asked for. */
function cacheOf(
	maxEntries: number,
	idleMs: number,
	inUse: (value: string) => boolean = () => false,
) {
	const made: string[] = [];
	const cache = new BoundedCache<string>({ maxEntries, idleMs }, { inUse });
	const get = (key: string, version: string, now: number) =>
		cache.obtain(key, version, now, () => {
			const value = `${key}@${version}#${made.length}`;
			made.push(value);
			return value;
		});
	return { cache, made, get };
}

describe('BoundedCache: what the process keeps per credential', () => {
	it('serves the same entry while its version stays, and replaces it when the version changes', () => {
		const { cache, made, get } = cacheOf(10, 60 * MINUTE);
		const first = get('app', 'secret-1', 0);
		expect(get('app', 'secret-1', MINUTE)).toBe(first);
		const rotated = get('app', 'secret-2', 2 * MINUTE);
		expect(rotated).not.toBe(first);
		expect(cache.size).toBe(1);
		// The old version is gone, not kept beside the new one: asking for it makes it anew.
		expect(get('app', 'secret-1', 3 * MINUTE)).not.toBe(first);
		expect(made).toHaveLength(3);
	});

	it('drops an entry idle for idleMs at the next access, whatever key that access is for', () => {
		const { cache, get } = cacheOf(10, 60 * MINUTE);
		const old = get('old', 'v', 0);
		get('busy', 'v', 30 * MINUTE);
		expect(get('old', 'v', 59 * MINUTE)).toBe(old);
		get('busy', 'v', 59 * MINUTE + 60 * MINUTE);
		expect(cache.has('old')).toBe(false);
		expect(cache.has('busy')).toBe(true);
	});

	it('beyond maxEntries drops the least recently used, not the first made', () => {
		const { cache, get } = cacheOf(3, 60 * MINUTE);
		const a = get('a', 'v', 0);
		get('b', 'v', 1);
		get('c', 'v', 2);
		// a is used again: b is now the least recently used.
		expect(get('a', 'v', 3)).toBe(a);
		get('d', 'v', 4);
		expect(cache.size).toBe(3);
		expect(cache.has('b')).toBe(false);
		expect(get('a', 'v', 5)).toBe(a);
	});

	it('never drops an entry in use, for space or idleness, and grows past the bound rather than do so', () => {
		const busy = new Set(['a', 'b']);
		const { cache, get } = cacheOf(2, MINUTE, (value) => busy.has(value.split('@')[0]));
		const a = get('a', 'v', 0);
		get('b', 'v', 1);
		get('c', 'v', 2);
		expect(cache.size).toBe(3);
		// Idle for an hour, but in use: kept.
		get('d', 'v', 60 * MINUTE);
		expect(cache.has('a')).toBe(true);
		expect(cache.has('c')).toBe(false);
		busy.clear();
		get('e', 'v', 60 * MINUTE + 1);
		expect([cache.has('a'), cache.has('b'), cache.has('d'), cache.has('e')]).toEqual([
			false,
			false,
			true,
			true,
		]);
		expect(get('a', 'v', 60 * MINUTE + 2)).not.toBe(a);
	});

	it('replaces an entry in use when its version changes: a rotated secret goes at once', () => {
		const { cache, get } = cacheOf(5, MINUTE, () => true);
		const first = get('app', 'old-secret', 0);
		expect(get('app', 'new-secret', 1)).not.toBe(first);
		expect(cache.size).toBe(1);
	});

	it('refuses a policy without a bound', () => {
		expect(() => new BoundedCache({ maxEntries: 0, idleMs: 1 })).toThrow(RangeError);
		expect(() => new BoundedCache({ maxEntries: 1, idleMs: 0 })).toThrow(RangeError);
	});
});
