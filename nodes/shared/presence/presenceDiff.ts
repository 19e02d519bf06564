import { simplifyPresence, type Presence } from './presence';

/**
 * Turns successive presence snapshots into change events. Graph's `sequenceNumber` orders versions
 * of one user's presence, so an answer that is not newer than what was last seen (a stale replica,
 * a repeated answer) is ignored instead of producing a change back and forth.
 */

export type WatchedField =
	| 'availability'
	| 'activity'
	| 'statusMessage'
	| 'outOfOffice'
	| 'workLocation';

/**
 * One user's last seen presence, kept small: it lives in the workflow's static data for every
 * watched user.
 */
export interface StoredPresence {
	a: string | null;
	c: string | null;
	s: string | null;
	o: boolean;
	w: string | null;
	q: string | null;
	/** When it was observed (ISO time). */
	t: string;
}

export type PresenceState = Record<string, StoredPresence>;

export interface DiffOptions {
	/** Which changes count as an event. */
	fields: readonly WatchedField[];
	/**
	 * Only transitions to one of these availabilities (case-insensitive); implies availability
	 * changed.
	 */
	toAvailability?: readonly string[];
	/** Only transitions from one of these availabilities; implies availability changed. */
	fromAvailability?: readonly string[];
}

export interface PresenceView {
	availability: string | null;
	activity: string | null;
	statusMessage: string | null;
	isOutOfOffice: boolean;
	workLocation: string | null;
	sequenceNumber: string | null;
	observedAt: string;
}

export interface PresenceChange {
	id: string;
	presence: Presence;
	previous: PresenceView;
	changed: WatchedField[];
	observedAt: string;
}

export interface DiffResult {
	changes: PresenceChange[];
	/** Users seen for the first time: recorded silently. */
	baselined: string[];
	/** Answers not newer than the stored one, by sequence number. */
	stale: string[];
}

export function store(presence: Presence, observedAt: string): StoredPresence {
	const simple = simplifyPresence(presence);
	return {
		a: simple.availability,
		c: simple.activity,
		s: simple.statusMessage,
		o: simple.isOutOfOffice,
		w: simple.workLocation,
		q: simple.sequenceNumber,
		t: observedAt,
	};
}

export function view(stored: StoredPresence): PresenceView {
	return {
		availability: stored.a,
		activity: stored.c,
		statusMessage: stored.s,
		isOutOfOffice: stored.o,
		workLocation: stored.w,
		sequenceNumber: stored.q,
		observedAt: stored.t,
	};
}

/**
 * Graph's sequenceNumber is a lexicographically sortable version stamp: compared by code unit, as
 * `<` does. Never localeCompare, whose order depends on the locale and puts 'a' before 'B'. A
 * missing one sorts first.
 */
export function compareSequenceNumbers(
	a: string | null | undefined,
	b: string | null | undefined,
): number {
	const x = a ?? '';
	const y = b ?? '';
	return x < y ? -1 : x > y ? 1 : 0;
}

/** Oldest version first (a stable sort), so each version is compared with the one before it. */
export function inSequenceOrder<T extends { sequenceNumber?: string | null }>(
	presences: readonly T[],
): T[] {
	return [...presences].sort((a, b) => compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber));
}

function changedFields(before: StoredPresence, after: StoredPresence): WatchedField[] {
	const same = (x: string | null, y: string | null) =>
		(x ?? '').toLowerCase() === (y ?? '').toLowerCase();
	const changed: WatchedField[] = [];
	if (!same(before.a, after.a)) changed.push('availability');
	if (!same(before.c, after.c)) changed.push('activity');
	if ((before.s ?? '') !== (after.s ?? '')) changed.push('statusMessage');
	if (before.o !== after.o) changed.push('outOfOffice');
	if (!same(before.w, after.w)) changed.push('workLocation');
	return changed;
}

function matches(list: readonly string[] | undefined, value: string | null): boolean {
	if (!list || list.length === 0) return true;
	return list.some((entry) => entry.toLowerCase() === (value ?? '').toLowerCase());
}

/**
 * Compares fresh presences with the stored state, updates the state in place (also for changes the
 * filter does not report, so that the next event starts from the truth) and returns the events.
 */
export function diffPresences(
	state: PresenceState,
	presences: readonly Presence[],
	options: DiffOptions,
	observedAt: string,
): DiffResult {
	const result: DiffResult = { changes: [], baselined: [], stale: [] };
	const transitionFilter =
		(options.toAvailability?.length ?? 0) > 0 || (options.fromAvailability?.length ?? 0) > 0;
	for (const presence of presences) {
		const id = presence.id.toLowerCase();
		const before = state[id];
		const after = store(presence, observedAt);
		if (!before) {
			state[id] = after;
			result.baselined.push(id);
			continue;
		}
		if (after.q !== null && before.q !== null && compareSequenceNumbers(after.q, before.q) <= 0) {
			result.stale.push(id);
			continue;
		}
		state[id] = after;
		const changed = changedFields(before, after);
		const relevant = changed.filter((field) => options.fields.includes(field));
		if (relevant.length === 0) continue;
		if (transitionFilter) {
			if (!changed.includes('availability')) continue;
			if (!matches(options.toAvailability, after.a) || !matches(options.fromAvailability, before.a))
				continue;
		}
		result.changes.push({ id, presence, previous: view(before), changed, observedAt });
	}
	return result;
}

/** Watched users removed from the list leave the state. */
export function forgetUnwatched(state: PresenceState, watched: ReadonlySet<string>): string[] {
	const removed = Object.keys(state).filter((id) => !watched.has(id));
	for (const id of removed) delete state[id];
	return removed;
}
