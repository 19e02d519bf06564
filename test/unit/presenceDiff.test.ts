import type { Presence } from '../../nodes/shared/presence/presence';
import {
	storedOf,
	compareSequenceNumbers,
	diffContents,
	diffPresences,
	forgetUnwatched,
	inSequenceOrder,
	type PresenceState,
} from '../../nodes/shared/presence/presenceDiff';

/** When each snapshot was observed (whole seconds: the stored form keeps seconds). */
const T1 = '2026-12-01T09:00:00.000Z';
const T2 = '2026-12-01T09:01:00.000Z';

const p = (
	id: string,
	availability: string,
	activity: string,
	seq: string,
	extra: Partial<Presence> = {},
): Presence => ({
	id,
	availability,
	activity,
	sequenceNumber: seq,
	...extra,
});
const both = { fields: ['availability', 'activity'] as const };

describe('diffPresences', () => {
	it('baselines unknown users silently and reports later changes with previous values', () => {
		const state: PresenceState = {};
		expect(diffPresences(state, [p('A', 'Busy', 'InACall', '01')], both, T1)).toEqual({
			changes: [],
			baselined: ['a'],
			stale: [],
		});
		const result = diffPresences(state, [p('a', 'Available', 'Available', '02')], both, T2);
		expect(result.changes).toHaveLength(1);
		expect(result.changes[0]).toMatchObject({
			id: 'a',
			changed: ['availability', 'activity'],
			previous: {
				availability: 'Busy',
				activity: 'InACall',
				sequenceNumber: '01',
				observedAt: T1,
			},
			observedAt: T2,
		});
		expect(storedOf(state, 'a')).toMatchObject({ a: 'Available', q: '02', t: T2 });
	});

	it('ignores stale and repeated answers by sequence number', () => {
		const state: PresenceState = {};
		diffPresences(state, [p('a', 'Busy', 'InACall', '05')], both, T1);
		expect(diffPresences(state, [p('a', 'Available', 'Available', '04')], both, T2)).toEqual({
			changes: [],
			baselined: [],
			stale: ['a'],
		});
		expect(diffPresences(state, [p('a', 'Available', 'Available', '05')], both, T2).stale).toEqual([
			'a',
		]);
		expect(storedOf(state, 'a')?.a).toBe('Busy');
	});

	it('compares without sequence numbers when Graph gives none, and case-insensitively', () => {
		const state: PresenceState = {};
		diffPresences(state, [{ id: 'a', availability: 'Busy', activity: 'InACall' }], both, T1);
		expect(
			diffPresences(state, [{ id: 'a', availability: 'busy', activity: 'inacall' }], both, T2)
				.changes,
		).toEqual([]);
		expect(
			diffPresences(state, [{ id: 'a', availability: 'Away', activity: 'Away' }], both, 't3')
				.changes,
		).toHaveLength(1);
	});

	it('keeps the state true even for changes the filter does not report', () => {
		const state: PresenceState = {};
		diffPresences(state, [p('a', 'Busy', 'InACall', '1')], both, T1);
		expect(
			diffPresences(state, [p('a', 'Busy', 'InAMeeting', '2')], { fields: ['availability'] }, T2)
				.changes,
		).toEqual([]);
		expect(storedOf(state, 'a')?.c).toBe('InAMeeting');
	});

	it('to / from filters require an availability transition matching both ends', () => {
		const state: PresenceState = {};
		diffPresences(
			state,
			[
				p('a', 'Busy', 'InACall', '1'),
				p('b', 'Away', 'Away', '1'),
				p('c', 'Available', 'Available', '1'),
			],
			both,
			T1,
		);
		const result = diffPresences(
			state,
			[
				p('a', 'Available', 'Available', '2'),
				p('b', 'Available', 'Available', '2'),
				p('c', 'Available', 'Away', '2'),
			],
			{ ...both, toAvailability: ['available'], fromAvailability: ['Busy'] },
			T2,
		);
		expect(result.changes.map((change) => change.id)).toEqual(['a']);
	});

	it('reports status message, out of office and work location only when watched', () => {
		const state: PresenceState = {};
		diffPresences(state, [p('a', 'Busy', 'InACall', '1')], both, T1);
		const next = p('a', 'Busy', 'InACall', '2', {
			statusMessage: { message: { content: 'Back at 3' } },
			outOfOfficeSettings: { isOutOfOffice: true },
			workLocation: { workLocationType: 'remote' },
		});
		const copy = JSON.parse(JSON.stringify(state)) as PresenceState;
		expect(diffPresences(state, [next], both, T2).changes).toEqual([]);
		expect(
			diffPresences(copy, [next], { fields: ['statusMessage', 'outOfOffice', 'workLocation'] }, T2)
				.changes[0].changed,
		).toEqual(['statusMessage', 'outOfOffice', 'workLocation']);
	});
});

describe('sequence order', () => {
	it('compares sequence numbers by code unit, whatever the locale says, and puts a missing one first', () => {
		expect(compareSequenceNumbers('B', 'a')).toBe(-1);
		expect(compareSequenceNumbers('a', 'B')).toBe(1);
		expect(compareSequenceNumbers('0A', '0_')).toBe(-1);
		expect(compareSequenceNumbers('07', '07')).toBe(0);
		expect(compareSequenceNumbers(null, '0')).toBe(-1);
		expect(
			inSequenceOrder([
				p('a', 'Away', 'Away', 'a'),
				p('b', 'Busy', 'InACall', 'B'),
				p('c', 'Away', 'Away', '0'),
			]).map((x) => x.id),
		).toEqual(['c', 'b', 'a']);
	});

	it('in sequence order, every version of a batch is one change, and repeats and older ones are none', () => {
		const state: PresenceState = {};
		diffPresences(state, [p('a', 'Available', 'Available', '0')], both, T1);
		const batch = [
			p('a', 'Away', 'Away', 'a'),
			p('a', 'Busy', 'InACall', 'B'),
			p('a', 'Away', 'Away', 'a'),
			p('a', 'Offline', 'Offline', '00'),
		];
		const result = diffPresences(state, inSequenceOrder(batch), both, T2);
		expect(
			result.changes.map((change) => [change.previous?.availability, change.presence.availability]),
		).toEqual([
			['Available', 'Offline'],
			['Offline', 'Busy'],
			['Busy', 'Away'],
		]);
		expect(result.stale).toEqual(['a']);
		expect(storedOf(state, 'a')).toMatchObject({ a: 'Away', q: 'a' });
	});
});

describe('version gaps (Several Webhook Processes)', () => {
	const gaps = { ...both, versionGaps: true };

	it('a newer version in the state already known is a change from an unknown state; off, it is none', () => {
		// Busy@05 seen here; another process saw Available@06; this one reads Busy@07.
		for (const [options, expected] of [
			[both, []],
			[gaps, [{ id: 'a', changed: [], previous: null }]],
		] as const) {
			const state: PresenceState = {};
			diffPresences(state, [p('a', 'Busy', 'InACall', '05')], options, T1);
			const result = diffPresences(state, [p('a', 'Busy', 'InACall', '07')], options, T2);
			expect(result.changes).toMatchObject(expected);
			expect(storedOf(state, 'a')).toMatchObject({ q: '07' });
		}
	});

	it('the same version again is still no change, and a real change keeps its previous state', () => {
		const state: PresenceState = {};
		diffPresences(state, [p('a', 'Busy', 'InACall', '05')], gaps, T1);
		expect(diffPresences(state, [p('a', 'Busy', 'InACall', '05')], gaps, T2).stale).toEqual(['a']);
		const change = diffPresences(state, [p('a', 'Away', 'Away', '06')], gaps, T2).changes[0];
		expect(change).toMatchObject({
			changed: ['availability', 'activity'],
			previous: { availability: 'Busy' },
		});
	});

	it('a gap passes the "from" filters it cannot check and must match the "to" filters', () => {
		const toAvailable = { ...gaps, toAvailability: ['Available'], fromAvailability: ['Busy'] };
		const state: PresenceState = {};
		diffPresences(
			state,
			[p('a', 'Available', 'Available', '05'), p('b', 'Away', 'Away', '05')],
			toAvailable,
			T1,
		);
		const result = diffPresences(
			state,
			[p('a', 'Available', 'Available', '07'), p('b', 'Away', 'Away', '07')],
			toAvailable,
			T2,
		);
		expect(result.changes.map((change) => change.id)).toEqual(['a']);
	});

	it('rich content equal to the state is a gap only when asked, and carries its notification', () => {
		const content = { id: 'a', availability: 'Busy', activity: 'InACall', notification: 'n1' };
		for (const [options, count] of [
			[both, 0],
			[gaps, 1],
		] as const) {
			const state: PresenceState = {};
			diffContents(state, [content], options, T1);
			const result = diffContents(state, [{ ...content, notification: 'n2' }], options, T2);
			expect(result.changes).toHaveLength(count);
			if (count) expect(result.changes[0]).toMatchObject({ previous: null, notification: 'n2' });
		}
	});
});

describe('forgetUnwatched', () => {
	it('drops users no longer watched', () => {
		const state: PresenceState = {
			a: { a: null, c: null, s: null, o: false, w: null, q: null, t: 't' },
			b: { a: null, c: null, s: null, o: false, w: null, q: null, t: 't' },
		};
		expect(forgetUnwatched(state, new Set(['a']))).toEqual(['b']);
		expect(Object.keys(state)).toEqual(['a']);
	});
});
