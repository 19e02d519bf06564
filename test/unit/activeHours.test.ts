import {
	isActive,
	isTimeZone,
	localTime,
	parseTimeOfDay,
	type ActiveHours,
} from '../../nodes/shared/trigger/activeHours';

const at = (iso: string) => Date.parse(iso);
/** Monday to Friday, 08:00–18:00 in Berlin. */
const office: ActiveHours = {
	days: [1, 2, 3, 4, 5],
	from: 8 * 60,
	to: 18 * 60,
	timeZone: 'Europe/Berlin',
};

describe('Active Hours', () => {
	it('reads times of day and time zones', () => {
		expect(parseTimeOfDay('08:30')).toBe(510);
		expect(parseTimeOfDay(' 7:05 ')).toBe(425);
		expect(parseTimeOfDay('24:00')).toBe(1440);
		expect(parseTimeOfDay('25:00')).toBeUndefined();
		expect(parseTimeOfDay('8.30')).toBeUndefined();
		expect(isTimeZone('Europe/Berlin')).toBe(true);
		expect(isTimeZone('Mars/Olympus')).toBe(false);
		// Tuesday 1 December 2026, 07:59 UTC is 08:59 in Berlin (winter time).
		expect(localTime(at('2026-12-01T07:59:00Z'), 'Europe/Berlin')).toEqual({
			day: 2,
			minutes: 539,
		});
	});

	it('is active on the chosen days between the times, in the time zone, not outside', () => {
		expect(isActive(office, at('2026-12-01T06:59:00Z'))).toBe(false); // 07:59 Berlin
		expect(isActive(office, at('2026-12-01T07:00:00Z'))).toBe(true); // 08:00
		expect(isActive(office, at('2026-12-01T16:59:00Z'))).toBe(true); // 17:59
		expect(isActive(office, at('2026-12-01T17:00:00Z'))).toBe(false); // 18:00
		expect(isActive(office, at('2026-12-05T10:00:00Z'))).toBe(false); // Saturday
		// Summer time moves the window by an hour in UTC.
		expect(isActive(office, at('2026-07-01T06:30:00Z'))).toBe(true); // 08:30 Berlin
	});

	it('runs past midnight when the end is before the start, belonging to its start day', () => {
		const night: ActiveHours = { days: [5], from: 22 * 60, to: 6 * 60, timeZone: 'UTC' };
		expect(isActive(night, at('2026-12-04T22:30:00Z'))).toBe(true); // Friday evening
		expect(isActive(night, at('2026-12-05T05:59:00Z'))).toBe(true); // Saturday early morning
		expect(isActive(night, at('2026-12-05T22:30:00Z'))).toBe(false); // Saturday evening
		expect(isActive(night, at('2026-12-04T05:00:00Z'))).toBe(false); // Friday early morning
	});

	it('every day when no day is chosen; all day when from equals to', () => {
		expect(isActive({ ...office, days: [] }, at('2026-12-05T10:00:00Z'))).toBe(true);
		expect(isActive({ ...office, from: 0, to: 0 }, at('2026-12-01T23:30:00Z'))).toBe(true);
	});
});
