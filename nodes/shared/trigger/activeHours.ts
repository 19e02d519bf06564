/**
 * "Active Hours": the triggers emit only on the chosen week days between two times of day, in a time
 * zone (default: the workflow's). Pure, with the clock handed in; a window whose end is before its
 * start runs past midnight (22:00–06:00), belonging to the day it starts on.
 */

export interface ActiveHours {
	/** 0 = Sunday … 6 = Saturday; empty means every day. */
	days: readonly number[];
	/** Minutes after midnight. */
	from: number;
	to: number;
	timeZone: string;
}

export const WEEK_DAYS = [
	'Sunday',
	'Monday',
	'Tuesday',
	'Wednesday',
	'Thursday',
	'Friday',
	'Saturday',
];

/** "HH:MM" (24 hours) to minutes after midnight, or undefined. "24:00" is the end of the day. */
export function parseTimeOfDay(value: unknown): number | undefined {
	const match = typeof value === 'string' ? /^\s*(\d{1,2}):(\d{2})\s*$/.exec(value) : null;
	if (!match) return undefined;
	const minutes = Number(match[1]) * 60 + Number(match[2]);
	return Number(match[2]) < 60 && minutes <= 24 * 60 ? minutes : undefined;
}

export function isTimeZone(zone: string): boolean {
	try {
		new Intl.DateTimeFormat('en-US', { timeZone: zone });
		return true;
	} catch {
		return false;
	}
}

/** Week day (0–6) and minutes after midnight of an instant in a time zone. */
export function localTime(now: number, timeZone: string): { day: number; minutes: number } {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone,
		weekday: 'short',
		hour: '2-digit',
		minute: '2-digit',
		hourCycle: 'h23',
	}).formatToParts(new Date(now));
	const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
	const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
	return { day, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function isActive(hours: ActiveHours, now: number): boolean {
	const { day, minutes } = localTime(now, hours.timeZone);
	const onDay = (d: number) => hours.days.length === 0 || hours.days.includes((d + 7) % 7);
	if (hours.from === hours.to) return onDay(day);
	if (hours.from < hours.to) return onDay(day) && minutes >= hours.from && minutes < hours.to;
	// Past midnight: the evening of a chosen day, or the early hours after one.
	return (onDay(day) && minutes >= hours.from) || (onDay(day - 1) && minutes < hours.to);
}
