/**
 * The shortest time between two polls of a polling trigger, from n8n's Poll Times parameter: how
 * long one poll may wait for the app's Graph budget before the next poll is due and makes it
 * pointless. Pure (no n8n import), so it is unit-tested directly.
 *
 * n8n turns each Poll Times entry into a cron expression with a random second (n8n-workflow's
 * toCronExpression); the gaps between its minutes and hours do not depend on that second. Several
 * entries are taken one by one (the shortest of their intervals), not merged: two entries firing a
 * second apart are one poll more, not an interval of one second.
 */

/** n8n refuses intervals under a minute, so a schedule that cannot be read is taken as this. */
export const SHORTEST_POLL_MS = 60_000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One entry of `pollTimes.item`, as n8n stores it. */
export interface PollTimeEntry {
	mode?: unknown;
	value?: unknown;
	unit?: unknown;
	cronExpression?: unknown;
}

/** The shortest interval in ms between polls of `pollTimes` (n8n's default: every minute). */
export function pollIntervalMs(pollTimes: unknown): number {
	const items =
		typeof pollTimes === 'object' && pollTimes !== null && 'item' in pollTimes
			? (pollTimes as { item: unknown }).item
			: undefined;
	if (!Array.isArray(items) || items.length === 0) return SHORTEST_POLL_MS;
	return Math.min(
		...items.map((item) =>
			typeof item === 'object' && item !== null
				? entryIntervalMs(item as PollTimeEntry)
				: SHORTEST_POLL_MS,
		),
	);
}

function entryIntervalMs(entry: PollTimeEntry): number {
	switch (entry.mode) {
		case 'everyMinute':
			return MINUTE;
		case 'everyHour':
			return HOUR;
		case 'everyDay':
			return DAY;
		case 'everyWeek':
			return 7 * DAY;
		// The shortest month; a day of month that some months lack only makes the gap longer.
		case 'everyMonth':
			return 28 * DAY;
		case 'everyX': {
			const value = Number(entry.value);
			if (!(Number.isInteger(value) && value >= 1)) return SHORTEST_POLL_MS;
			// `*/value` in the minute (or hour) field: the last step before the hour (day) wraps is shorter.
			if (entry.unit === 'minutes') return shortestGap(stepped(value, 60), 60) * MINUTE;
			if (entry.unit === 'hours') return shortestGap(stepped(value, 24), 24) * HOUR;
			return SHORTEST_POLL_MS;
		}
		case 'custom':
			return typeof entry.cronExpression === 'string'
				? cronIntervalMs(entry.cronExpression)
				: SHORTEST_POLL_MS;
		default:
			return SHORTEST_POLL_MS;
	}
}

/**
 * The shortest gap between matches of a cron expression (5 fields, or 6 with seconds first), from
 * its second, minute and hour fields; the day fields only matter as "every day" or not. What it
 * cannot read gives SHORTEST_POLL_MS.
 */
export function cronIntervalMs(expression: string): number {
	const fields = expression.trim().split(/\s+/);
	if (fields.length !== 5 && fields.length !== 6) return SHORTEST_POLL_MS;
	const [second, minute, hour, dayOfMonth, month, dayOfWeek] =
		fields.length === 6 ? fields : ['0', ...fields];
	const seconds = parseField(second, 0, 59);
	const minutes = parseField(minute, 0, 59);
	const hours = parseField(hour, 0, 23);
	if (!seconds || !minutes || !hours) return SHORTEST_POLL_MS;
	const times: number[] = [];
	for (const h of hours)
		for (const m of minutes) for (const s of seconds) times.push(h * 3600 + m * 60 + s);
	times.sort((a, b) => a - b);
	const everyDay = [dayOfMonth, month, dayOfWeek].every((field) => field === '*' || field === '?');
	let gap = Infinity;
	for (let index = 1; index < times.length; index++)
		gap = Math.min(gap, times[index] - times[index - 1]);
	// From the last match of a day to the first of the next: only "every day" makes that the next
	// match; otherwise the next match is a day or more later.
	const wrap = times[0] + 86_400 - times[times.length - 1];
	gap = Math.min(gap, everyDay ? wrap : Math.max(wrap, 86_400));
	return gap * SECOND;
}

/** `*`, `?`, `n`, `a-b`, any of them with `/step`, and lists of these; undefined otherwise. */
function parseField(field: string, min: number, max: number): number[] | undefined {
	const values = new Set<number>();
	for (const part of field.split(',')) {
		const match = /^(\*|\?|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
		if (!match) return undefined;
		const [, base, end, stepText] = match;
		const wildcard = base === '*' || base === '?';
		if (wildcard && end !== undefined) return undefined;
		const from = wildcard ? min : Number(base);
		let to = from;
		if (end !== undefined) to = Number(end);
		// `n/step` runs from n to the field's end, as in cron.
		else if (wildcard || stepText !== undefined) to = max;
		const step = stepText === undefined ? 1 : Number(stepText);
		if (from < min || to > max || from > to || step < 1) return undefined;
		for (let value = from; value <= to; value += step) values.add(value);
	}
	return values.size > 0 ? [...values] : undefined;
}

/** The values `*\/step` matches in a field of `size` values starting at 0. */
function stepped(step: number, size: number): number[] {
	const values: number[] = [];
	for (let value = 0; value < size; value += step) values.push(value);
	return values;
}

/** The shortest gap between sorted values of a cycle of `size` (the last wraps to the first). */
function shortestGap(values: number[], size: number): number {
	let gap = values[0] + size - values[values.length - 1];
	for (let index = 1; index < values.length; index++)
		gap = Math.min(gap, values[index] - values[index - 1]);
	return gap;
}
