/**
 * What Graph accepts when writing presence, checked before anything is sent: the
 * availability/activity pairs of each operation, durations (5 minutes to 4 hours for a session, at
 * least 5 minutes for a preferred presence), and
 * status-message expiry times in the form Graph wants (a wall-clock time without offset plus a time
 * zone name).
 */

export const SET_PRESENCE_PAIRS = [
	'Available/Available',
	'Busy/InACall',
	'Busy/InAConferenceCall',
	'Away/Away',
	'DoNotDisturb/Presenting',
];
export const PREFERRED_PRESENCE_PAIRS = [
	'Available/Available',
	'Busy/Busy',
	'DoNotDisturb/DoNotDisturb',
	'BeRightBack/BeRightBack',
	'Away/Away',
	'Offline/OffWork',
];
/** setPresence: "The valid duration range is 5-240 minutes (PT5M to PT4H)" (presence-setpresence). */
export const DURATIONS = ['PT5M', 'PT10M', 'PT15M', 'PT30M', 'PT1H', 'PT2H', 'PT3H', 'PT4H'];
/**
 * setUserPreferredPresence documents no upper bound (its own example is PT8H): the same start, and
 * longer ones up to the 7 days Graph itself applies by default.
 */
export const PREFERRED_DURATIONS = [...DURATIONS, 'PT8H', 'PT12H', 'P1D', 'P2D', 'P7D'];
export const WORK_LOCATIONS = ['office', 'remote', 'timeOff', 'unspecified'];

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * `Availability/Activity` → the pair, if the operation accepts it (case-insensitive, Graph's
 * spelling returned).
 */
export function checkPair(
	value: unknown,
	allowed: readonly string[],
): Checked<{ availability: string; activity: string }> {
	const text = typeof value === 'string' ? value.trim() : '';
	const match = allowed.find((pair) => pair.toLowerCase() === text.toLowerCase());
	if (!match) {
		return {
			ok: false,
			message: `"${String(value)}" is not a valid availability/activity pair here; use one of ${allowed.join(', ')}`,
		};
	}
	const [availability, activity] = match.split('/');
	return { ok: true, value: { availability, activity } };
}

/** Minutes in an ISO 8601 duration of days, hours and minutes (PT1H30M, P1D), or undefined. */
export function durationMinutes(value: string): number | undefined {
	const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/i.exec(value.trim());
	if (!match || (match[1] === undefined && match[2] === undefined && match[3] === undefined))
		return undefined;
	if (/T$/i.test(value.trim())) return undefined;
	return (Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0);
}

/**
 * An app presence session's duration: PT5M to PT4H. With `unbounded` (preferred presence), any
 * duration from PT5M on.
 */
export function checkDuration(value: unknown, unbounded = false): Checked<string> {
	const text = typeof value === 'string' ? value.trim().toUpperCase() : '';
	const minutes = durationMinutes(text);
	if (minutes === undefined || minutes < 5 || (!unbounded && minutes > 240)) {
		return {
			ok: false,
			message: unbounded
				? `"${String(value)}" is not a duration of at least PT5M (5 minutes), such as PT8H or P1D`
				: `"${String(value)}" is not a duration from PT5M (5 minutes) to PT4H (4 hours)`,
		};
	}
	return { ok: true, value: text };
}

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;
const WALL_CLOCK = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)$/;

/**
 * Graph wants `{ dateTime: '2026-11-24T17:00:00', timeZone: 'W. Europe Standard Time' | 'Europe/Berlin' | 'UTC' }`.
 * A time with an offset or Z names an instant: it is sent as UTC wall time. A time without one is meant in
 * `timeZone` (the node's option, or the workflow's time zone) and sent as it is.
 */
export function toGraphDateTime(
	value: unknown,
	timeZone: string,
): Checked<{ dateTime: string; timeZone: string }> {
	const text = typeof value === 'string' ? value.trim() : '';
	if (OFFSET.test(text)) {
		const instant = Date.parse(text);
		if (Number.isNaN(instant)) return { ok: false, message: `"${text}" is not a date and time` };
		return {
			ok: true,
			value: { dateTime: new Date(instant).toISOString().slice(0, 19), timeZone: 'UTC' },
		};
	}
	const wall = WALL_CLOCK.exec(text);
	if (!wall || Number.isNaN(Date.parse(`${wall[1]}T${wall[2]}Z`))) {
		return {
			ok: false,
			message: `"${String(value)}" is not a date and time such as 2026-11-24T17:00:00`,
		};
	}
	if (!timeZone.trim())
		return { ok: false, message: 'A time zone is needed for a date and time without offset' };
	const time = wall[2].length === 5 ? `${wall[2]}:00` : wall[2];
	return { ok: true, value: { dateTime: `${wall[1]}T${time}`, timeZone: timeZone.trim() } };
}
