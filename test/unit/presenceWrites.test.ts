import {
	checkDuration,
	checkPair,
	durationMinutes,
	PREFERRED_PRESENCE_PAIRS,
	SET_PRESENCE_PAIRS,
	toGraphDateTime,
} from '../../nodes/shared/presence/writeRules';

describe('checkPair', () => {
	it("accepts the pairs of each operation, in any case, returning Graph's spelling", () => {
		expect(checkPair('busy/inacall', SET_PRESENCE_PAIRS)).toEqual({
			ok: true,
			value: { availability: 'Busy', activity: 'InACall' },
		});
		expect(checkPair('Offline/OffWork', PREFERRED_PRESENCE_PAIRS)).toEqual({
			ok: true,
			value: { availability: 'Offline', activity: 'OffWork' },
		});
	});
	it('refuses a pair that belongs to the other operation or to none, naming it', () => {
		const wrong = checkPair('Offline/OffWork', SET_PRESENCE_PAIRS);
		expect(wrong.ok).toBe(false);
		expect(!wrong.ok && wrong.message).toContain('"Offline/OffWork"');
		expect(checkPair('Busy/InACall', PREFERRED_PRESENCE_PAIRS).ok).toBe(false);
		expect(checkPair(42, SET_PRESENCE_PAIRS).ok).toBe(false);
	});
});

describe('durations', () => {
	it('reads days, hours and minutes', () => {
		expect(durationMinutes('PT5M')).toBe(5);
		expect(durationMinutes('PT1H30M')).toBe(90);
		expect(durationMinutes('P1D')).toBe(1440);
		expect(durationMinutes('P1DT2H')).toBe(1560);
		expect(durationMinutes('PT')).toBeUndefined();
		expect(durationMinutes('P1DT')).toBeUndefined();
		expect(durationMinutes('P')).toBeUndefined();
	});
	it('accepts 5 minutes to 4 hours only', () => {
		expect(checkDuration('pt4h')).toEqual({ ok: true, value: 'PT4H' });
		expect(checkDuration('PT1H30M')).toEqual({ ok: true, value: 'PT1H30M' });
		expect(checkDuration('PT4M').ok).toBe(false);
		expect(checkDuration('PT4H1M').ok).toBe(false);
		expect(checkDuration('5 minutes').ok).toBe(false);
		expect(checkDuration('P1D').ok).toBe(false);
	});
	it('takes any duration from 5 minutes on for a preferred presence (Graph documents no upper bound)', () => {
		expect(checkDuration('PT8H', true)).toEqual({ ok: true, value: 'PT8H' });
		expect(checkDuration('p7d', true)).toEqual({ ok: true, value: 'P7D' });
		expect(checkDuration('PT36H', true)).toEqual({ ok: true, value: 'PT36H' });
		expect(checkDuration('PT4M', true).ok).toBe(false);
		expect(checkDuration('forever', true)).toEqual({
			ok: false,
			message: '"forever" is not a duration of at least PT5M (5 minutes), such as PT8H or P1D',
		});
	});
});

describe('toGraphDateTime', () => {
	it('sends an instant with an offset as UTC wall time', () => {
		expect(toGraphDateTime('2026-11-24T17:00:00+01:00', 'Europe/Berlin')).toEqual({
			ok: true,
			value: { dateTime: '2026-11-24T16:00:00', timeZone: 'UTC' },
		});
		expect(toGraphDateTime('2026-11-24T17:00:00.000Z', 'Europe/Berlin')).toEqual({
			ok: true,
			value: { dateTime: '2026-11-24T17:00:00', timeZone: 'UTC' },
		});
	});
	it('keeps a wall-clock time in the given time zone', () => {
		expect(toGraphDateTime('2026-11-24T17:00', 'Europe/Berlin')).toEqual({
			ok: true,
			value: { dateTime: '2026-11-24T17:00:00', timeZone: 'Europe/Berlin' },
		});
		expect(toGraphDateTime('2026-11-24 08:30:15.5', 'Pacific Standard Time')).toEqual({
			ok: true,
			value: { dateTime: '2026-11-24T08:30:15.5', timeZone: 'Pacific Standard Time' },
		});
	});
	it('refuses what is not a date and time', () => {
		expect(toGraphDateTime('tomorrow', 'UTC').ok).toBe(false);
		expect(toGraphDateTime('2026-13-45T10:00:00', 'UTC').ok).toBe(false);
		expect(toGraphDateTime('2026-11-24T10:00:00', ' ').ok).toBe(false);
	});
});
