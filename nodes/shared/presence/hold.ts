import {
	changedFields,
	reportable,
	view,
	type DiffOptions,
	type PresenceChange,
	type StoredPresence,
	type WatchedField,
} from './presenceDiff';
import type { Presence } from './presence';

/**
 * "Hold For": a change is emitted only once the new state has lasted that long. Teams turns a user
 * Away after a few idle minutes and flips Busy and Available around meetings; a state that flips back
 * inside the window emits nothing (Available → Away → Available in two minutes is silence), and a
 * state that keeps moving is emitted as one transition, from where it was before the first change to
 * where it settled. Pure: the triggers keep the held changes in their state (so they survive
 * restarts) and call `release` on every poll or schedule tick with the clock.
 */

export interface HeldChange {
	/** The state before the first change of this run of changes. */
	from: StoredPresence;
	/** The latest state, and Graph's presence object for it. */
	to: StoredPresence;
	presence: Presence;
	/** When `to` was first seen (ms since the epoch): it must last `holdMs` from here. */
	since: number;
}

export type HeldChanges = Record<string, HeldChange>;

/** Every field there is: held changes are recorded whatever the options, and judged on release. */
export const ALL_FIELDS: readonly WatchedField[] = [
	'availability',
	'activity',
	'statusMessage',
	'outOfOffice',
	'workLocation',
];

/** Records raw changes (from a diff with ALL_FIELDS and no filters) as held, in place. */
export function hold(held: HeldChanges, changes: readonly PresenceChange[], now: number): void {
	for (const change of changes) {
		const known = held[change.id];
		if (!known) {
			held[change.id] = {
				from: change.before,
				to: change.after,
				presence: change.presence,
				since: now,
			};
			continue;
		}
		if (changedFields(known.from, change.after).length === 0) {
			// Back where it was before the change: it never lasted, nothing to say.
			delete held[change.id];
			continue;
		}
		held[change.id] = { from: known.from, to: change.after, presence: change.presence, since: now };
	}
}

/**
 * The held changes that have lasted `holdMs` by `now`, as the events the options report (the net
 * transition, filters applied to it), removed from `held`. Users no longer watched are dropped.
 */
export function release(
	held: HeldChanges,
	now: number,
	holdMs: number,
	options: DiffOptions,
	watched?: ReadonlySet<string>,
): PresenceChange[] {
	const released: PresenceChange[] = [];
	for (const [id, change] of Object.entries(held)) {
		if (watched && !watched.has(id)) {
			delete held[id];
			continue;
		}
		if (now - change.since < holdMs) continue;
		delete held[id];
		const changed = changedFields(change.from, change.to);
		if (!reportable(change.from, change.to, options, changed)) continue;
		released.push({
			id,
			presence: change.presence,
			before: change.from,
			after: change.to,
			previous: view(change.from),
			changed,
			observedAt: change.to.t,
		});
	}
	return released;
}
