import { ExpiringCache } from '../../nodes/shared/users/expiringCache';

describe('ExpiringCache (the names kept for Include User Details)', () => {
	it('forgets an entry when its time is up', () => {
		const cache = new ExpiringCache<string | null>(1000, 10);
		cache.set('a', 'Ann', 0);
		cache.set('b', null, 500);
		expect(cache.get('a', 999)).toBe('Ann');
		// null is a value (an id that is no user), not a miss.
		expect(cache.has('b', 999)).toBe(true);
		expect(cache.get('b', 999)).toBeNull();
		expect(cache.get('a', 1000)).toBeUndefined();
		expect(cache.get('b', 1500)).toBeUndefined();
		expect(cache.size).toBe(0);
	});

	it('never holds more than its size: the oldest goes first, a set again counts as new', () => {
		const cache = new ExpiringCache<number>(60_000, 3);
		cache.set('a', 1, 0);
		cache.set('b', 2, 1);
		cache.set('c', 3, 2);
		cache.set('a', 4, 3);
		cache.set('d', 5, 4);
		expect(cache.size).toBe(3);
		expect(cache.get('b', 5)).toBeUndefined();
		expect([cache.get('a', 5), cache.get('c', 5), cache.get('d', 5)]).toEqual([4, 3, 5]);
	});

	it('refuses a cache without time or room', () => {
		expect(() => new ExpiringCache(0, 1)).toThrow(RangeError);
		expect(() => new ExpiringCache(1, 0)).toThrow(RangeError);
	});
});
