import { decodeStored, encodeStored } from './compactState';
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

/**
 * Every watched user's last presence by object id, as kept in static data: compact strings
 * (compactState.ts); the object form of earlier versions is still read.
 */
export type PresenceState = Record<string, string | StoredPresence>;

/** One user's stored presence, whichever form it was saved in. */
export function storedOf(state: PresenceState, id: string): StoredPresence | undefined {
	return decodeStored(state[id]);
}

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
	/** Only transitions to one of these activities (case-insensitive); implies activity changed. */
	toActivity?: readonly string[];
	/** Only transitions from one of these activities; implies activity changed. */
	fromActivity?: readonly string[];
	/**
	 * Other processes see versions this one does not (several webhook processes): a newer version
	 * whose state equals the stored one is still reported, as a change from an unknown state (a
	 * change back to a state another process saw would otherwise look like no change).
	 */
	versionGaps?: boolean;
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
	/** The stored states on either side, for holding a change (hold.ts). */
	before: StoredPresence;
	after: StoredPresence;
	/** Null when the state before is unknown (a version gap, see DiffOptions.versionGaps). */
	previous: PresenceView | null;
	changed: WatchedField[];
	observedAt: string;
	/** The rich notification the change came from (a digest): its version, as content has none. */
	notification?: string;
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

export function changedFields(before: StoredPresence, after: StoredPresence): WatchedField[] {
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
	for (const presence of presences) {
		const id = presence.id.toLowerCase();
		const before = storedOf(state, id);
		const after = store(presence, observedAt);
		if (
			before &&
			after.q !== null &&
			before.q !== null &&
			compareSequenceNumbers(after.q, before.q) <= 0
		) {
			result.stale.push(id);
			continue;
		}
		const gap = options.versionGaps === true && before !== undefined && after.q !== null;
		record(state, result, id, presence, before, after, options, observedAt, { gap });
	}
	return result;
}

/** What a rich notification says about a user: availability and activity, and no version. */
export interface AvailabilityContent {
	id: string;
	availability: string;
	activity: string;
	/** A digest of the notification it came from (a redelivery has the same). */
	notification?: string;
}

/**
 * Like diffPresences for the decrypted content of rich notifications, which holds only availability
 * and activity and no sequence number: those two are compared with the stored state and replace it;
 * everything else the state knows (status message, out of office, work location, the last sequence
 * number) is kept. A user not seen before is recorded with what the content says.
 */
export function diffContents(
	state: PresenceState,
	contents: readonly AvailabilityContent[],
	options: DiffOptions,
	observedAt: string,
): DiffResult {
	const result: DiffResult = { changes: [], baselined: [], stale: [] };
	for (const content of contents) {
		const id = content.id.toLowerCase();
		const before = storedOf(state, id);
		const presence: Presence = {
			id: content.id,
			availability: content.availability,
			activity: content.activity,
			statusMessage: before?.s ? { message: { content: before.s, contentType: 'text' } } : null,
			outOfOfficeSettings: { isOutOfOffice: before?.o ?? false },
			workLocation: before?.w ? { workLocationType: before.w } : null,
			sequenceNumber: before?.q ?? null,
		};
		const after = store(presence, observedAt);
		// Every notification is a change: one equal to the stored state is a gap when others see versions too.
		const gap = options.versionGaps === true && before !== undefined;
		record(state, result, id, presence, before, after, options, observedAt, {
			gap,
			notification: content.notification,
		});
	}
	return result;
}

/**
 * Stores the new state of one user and reports the change if the options ask for it. `gap`: the
 * version is new, so if the state equals the stored one another process saw what came between,
 * and it is reported as a change from an unknown state.
 */
function record(
	state: PresenceState,
	result: DiffResult,
	id: string,
	presence: Presence,
	before: StoredPresence | undefined,
	after: StoredPresence,
	options: DiffOptions,
	observedAt: string,
	how: { gap: boolean; notification?: string },
): void {
	state[id] = encodeStored(after);
	if (!before) {
		result.baselined.push(id);
		return;
	}
	const changed = changedFields(before, after);
	const gap = how.gap && changed.length === 0;
	if (gap ? !reportableGap(after, options) : !reportable(before, after, options, changed)) return;
	const previous = gap ? null : view(before);
	const { notification } = how;
	result.changes.push({ id, presence, before, after, previous, changed, observedAt, notification });
}

/**
 * Whether a change from an unknown state (a version gap) is an event: the "to" filters are checked,
 * the "from" filters cannot be and pass, so that the change is emitted at least once.
 */
function reportableGap(after: StoredPresence, options: DiffOptions): boolean {
	return matches(options.toAvailability, after.a) && matches(options.toActivity, after.c);
}

/**
 * Whether a transition from `before` to `after` is an event under the options: a watched field
 * changed, and the to/from filters (availability, activity) match. Applied to each change, or to the
 * net transition of a change that was held (hold.ts).
 */
export function reportable(
	before: StoredPresence,
	after: StoredPresence,
	options: DiffOptions,
	changed: readonly WatchedField[] = changedFields(before, after),
): boolean {
	if (!changed.some((field) => options.fields.includes(field))) return false;
	const filtered = (list: readonly string[] | undefined) => (list?.length ?? 0) > 0;
	if (filtered(options.toAvailability) || filtered(options.fromAvailability)) {
		if (!changed.includes('availability')) return false;
		if (!matches(options.toAvailability, after.a) || !matches(options.fromAvailability, before.a)) {
			return false;
		}
	}
	if (filtered(options.toActivity) || filtered(options.fromActivity)) {
		if (!changed.includes('activity')) return false;
		if (!matches(options.toActivity, after.c) || !matches(options.fromActivity, before.c))
			return false;
	}
	return true;
}

/** Watched users removed from the list leave the state. */
export function forgetUnwatched(state: PresenceState, watched: ReadonlySet<string>): string[] {
	const removed = Object.keys(state).filter((id) => !watched.has(id));
	for (const id of removed) delete state[id];
	return removed;
}
