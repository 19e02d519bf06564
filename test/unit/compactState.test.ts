import { decodeStored, encodeStored } from '../../nodes/shared/presence/compactState';
import type { StoredPresence } from '../../nodes/shared/presence/presenceDiff';

const stored = (fields: Partial<StoredPresence> = {}): StoredPresence => ({
	a: 'Available',
	c: 'InAMeeting',
	s: null,
	o: false,
	w: 'office',
	q: '0000000000000011AA91B52B',
	t: '2026-12-01T09:00:07.000Z',
	...fields,
});

describe('the compact stored presence', () => {
	it('round-trips what the diff and the items need, in a short string', () => {
		const value = stored();
		const encoded = encodeStored(value);
		expect(encoded).toBe('A|I||B|0000000000000011AA91B52B|tpczo7|');
		expect(decodeStored(encoded)).toEqual(value);
	});

	it('keeps open sets open: new values, other cases, one-letter values, pipes in status messages', () => {
		for (const value of [
			stored({ a: 'AvailableInactive', c: 'Focusing', w: null }),
			stored({ a: 'available', c: 'B', w: 'X', q: null }),
			stored({ s: 'Back at 3 | call me: 100% sure =)', o: true }),
			stored({ s: '' }),
			stored({ a: null, c: null, q: 'a|b%7C' }),
		]) {
			expect(decodeStored(encodeStored(value))).toEqual(value);
		}
	});

	it('keeps seconds of the observation time, and still reads the object form of earlier versions', () => {
		expect(decodeStored(encodeStored(stored({ t: '2026-12-01T09:00:07.999Z' })))?.t).toBe(
			'2026-12-01T09:00:07.000Z',
		);
		const legacy = stored();
		expect(decodeStored(legacy)).toBe(legacy);
		expect(decodeStored(undefined)).toBeUndefined();
		expect(decodeStored('garbage')).toBeUndefined();
	});

	it('is less than half the size of the object form for a typical user', () => {
		const value = stored({ c: 'Available', w: 'unspecified' });
		expect(JSON.stringify(encodeStored(value)).length * 2).toBeLessThan(
			JSON.stringify(value).length,
		);
	});
});
