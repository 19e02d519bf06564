import type { StoredPresence } from './presenceDiff';

/**
 * How the triggers keep each watched user's last presence in the workflow's static data, which n8n
 * stores in its database and writes whole whenever it changes. As JSON objects it cost about 173 bytes
 * a user (17 MB for 100,000); as one short string it costs about 80. The string holds exactly what the
 * diff and the items need: availability, activity, out of office, work location, Graph's sequence
 * number, when it was seen (seconds, base 36) and the status message, in that order, separated by
 * `|`. The values Graph documents are one letter each; anything else (new values, other cases) is
 * kept verbatim, so open sets stay open. The older object form is still read.
 */

/**
 * The letters are positions in these lists, saved in users' static data: the lists never change
 * order and only grow at the end (the triggers' option lists in trigger/events.ts are another matter:
 * they follow Graph's documentation and may change freely).
 */
const AVAILABILITIES = [
	'Available',
	'AvailableIdle',
	'Away',
	'BeRightBack',
	'Busy',
	'BusyIdle',
	'DoNotDisturb',
	'Offline',
	'PresenceUnknown',
];
const ACTIVITIES = [
	'Available',
	'Away',
	'BeRightBack',
	'Busy',
	'DoNotDisturb',
	'InACall',
	'InAConferenceCall',
	'Inactive',
	'InAMeeting',
	'Offline',
	'OffWork',
	'OutOfOffice',
	'PresenceUnknown',
	'Presenting',
	'UrgentInterruptionsOnly',
];
const WORK_LOCATIONS = ['unspecified', 'office', 'remote', 'timeOff'];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A field: '' for null, a letter for a known value, else the value with `|` and `%` escaped. */
function pack(value: string | null, known: readonly string[]): string {
	if (value === null) return '';
	const index = known.indexOf(value);
	if (index >= 0) return LETTERS[index];
	const escaped = value.replace(/%/g, '%25').replace(/\|/g, '%7C');
	// One character would read as a letter code.
	return escaped.length === 1 ? `~${escaped}` : escaped;
}

function unpack(field: string, known: readonly string[]): string | null {
	if (field === '') return null;
	if (field.length === 1) return known[LETTERS.indexOf(field)] ?? field;
	if (field.length === 2 && field.startsWith('~')) return field.slice(1);
	return field.replace(/%7C/g, '|').replace(/%25/g, '%');
}

export function encodeStored(stored: StoredPresence): string {
	const seconds = Math.floor(Date.parse(stored.t) / 1000);
	return [
		pack(stored.a, AVAILABILITIES),
		pack(stored.c, ACTIVITIES),
		stored.o ? '1' : '',
		pack(stored.w, WORK_LOCATIONS),
		pack(stored.q, []),
		Number.isFinite(seconds) ? seconds.toString(36) : '',
		// Last, and never split: a status message may hold anything.
		stored.s === null ? '' : `=${stored.s}`,
	].join('|');
}

function isStoredObject(value: unknown): value is StoredPresence {
	return typeof value === 'object' && value !== null && 't' in value && 'a' in value;
}

/** A stored user in either form, or undefined for anything else (a user never seen). */
export function decodeStored(value: unknown): StoredPresence | undefined {
	if (isStoredObject(value)) return value;
	if (typeof value !== 'string') return undefined;
	const parts = value.split('|');
	if (parts.length < 7) return undefined;
	const message = parts.slice(6).join('|');
	const seconds = parseInt(parts[5], 36);
	return {
		a: unpack(parts[0], AVAILABILITIES),
		c: unpack(parts[1], ACTIVITIES),
		o: parts[2] === '1',
		w: unpack(parts[3], WORK_LOCATIONS),
		q: unpack(parts[4], []),
		t: new Date(Number.isFinite(seconds) ? seconds * 1000 : 0).toISOString(),
		s: message.startsWith('=') ? message.slice(1) : null,
	};
}
