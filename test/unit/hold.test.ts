import { ALL_FIELDS, hold, release, type HeldChanges } from '../../nodes/shared/presence/hold';
import { diffPresences, type PresenceState } from '../../nodes/shared/presence/presenceDiff';
import type { Presence } from '../../nodes/shared/presence/presence';

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T09:00:00Z');
const raw = { fields: ALL_FIELDS };
const anyChange = { fields: ['availability', 'activity'] as const };

let seq = 0;
const presence = (id: string, availability: string, activity = availability): Presence => ({
	id,
	availability,
	activity,
	sequenceNumber: String(++seq).padStart(8, '0'),
});

/** What a trigger does on one observation with Hold For: raw diff, hold, release. */
function observe(
	state: PresenceState,
	held: HeldChanges,
	seen: Presence[],
	at: number,
	options: Parameters<typeof release>[3] = anyChange,
	holdMs = 2 * MINUTE,
) {
	hold(held, diffPresences(state, seen, raw, new Date(at).toISOString()).changes, at);
	return release(held, at, holdMs, options).map((change) => [
		change.id,
		change.previous?.availability,
		change.presence.availability,
	]);
}

describe('Hold For', () => {
	it('a flicker inside the window is silence: Available → Away → Available in two minutes emits nothing', () => {
		const state: PresenceState = {};
		const held: HeldChanges = {};
		observe(state, held, [presence('u', 'Available')], T0);
		expect(observe(state, held, [presence('u', 'Away')], T0 + MINUTE)).toEqual([]);
		expect(observe(state, held, [presence('u', 'Available')], T0 + 2 * MINUTE)).toEqual([]);
		expect(held).toEqual({});
		expect(observe(state, held, [presence('u', 'Available')], T0 + 10 * MINUTE)).toEqual([]);
	});

	it('a state that lasts is emitted once the window has passed, with the state before it as previous', () => {
		const state: PresenceState = {};
		const held: HeldChanges = {};
		observe(state, held, [presence('u', 'Busy')], T0);
		expect(observe(state, held, [presence('u', 'Available')], T0 + MINUTE)).toEqual([]);
		expect(observe(state, held, [presence('u', 'Available')], T0 + 2 * MINUTE)).toEqual([]);
		expect(observe(state, held, [presence('u', 'Available')], T0 + 3 * MINUTE)).toEqual([
			['u', 'Busy', 'Available'],
		]);
		expect(observe(state, held, [presence('u', 'Available')], T0 + 4 * MINUTE)).toEqual([]);
	});

	it('a state that keeps moving restarts the window and is emitted as one transition, filters judged on it', () => {
		const state: PresenceState = {};
		const held: HeldChanges = {};
		const toAvailable = { ...anyChange, toAvailability: ['Available'] };
		observe(state, held, [presence('u', 'Offline')], T0, toAvailable);
		observe(state, held, [presence('u', 'Away')], T0 + MINUTE, toAvailable);
		observe(state, held, [presence('u', 'Available')], T0 + 2 * MINUTE, toAvailable);
		// Two minutes after the *last* change, Offline → Available (the Away in between never lasted).
		expect(observe(state, held, [], T0 + 3 * MINUTE, toAvailable)).toEqual([]);
		expect(observe(state, held, [], T0 + 4 * MINUTE, toAvailable)).toEqual([
			['u', 'Offline', 'Available'],
		]);
		// A run that settles on something the filter does not want emits nothing.
		observe(state, held, [presence('u', 'Busy')], T0 + 5 * MINUTE, toAvailable);
		expect(observe(state, held, [], T0 + 8 * MINUTE, toAvailable)).toEqual([]);
	});

	it('a held change survives as plain data (static data across restarts), and users no longer watched are dropped', () => {
		const state: PresenceState = {};
		const held: HeldChanges = {};
		observe(state, held, [presence('u', 'Busy'), presence('v', 'Busy')], T0);
		observe(state, held, [presence('u', 'Available'), presence('v', 'Available')], T0 + MINUTE);
		const restored = JSON.parse(JSON.stringify(held)) as HeldChanges;
		const out = release(restored, T0 + 4 * MINUTE, 2 * MINUTE, anyChange, new Set(['u']));
		expect(out.map((change) => change.id)).toEqual(['u']);
		expect(restored).toEqual({});
	});
});
