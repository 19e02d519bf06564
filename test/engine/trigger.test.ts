import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import type { GraphEmulator } from '../emulator';
import { runPoll, type HarnessCredential } from '../harness';
import { decodeStored, encodeStored } from '../../nodes/shared/presence/compactState';
import { credentialTypes, TRIGGER_TYPE, triggerNodeTypes, useEmulator } from './support';

let emu: GraphEmulator;
let credentials: Record<string, HarnessCredential>;

useEmulator(
	{
		seed: 21,
		users: 10_500,
		clientId: 'cccccccc-0000-4000-8000-000000000001',
		credentials: ['app', 'delegated'],
	},
	(started) => ({ emu, credentials } = started),
);

interface PollArgs {
	userIds: string | string[];
	staticData?: IDataObject;
	mode?: 'trigger' | 'manual';
	triggerOn?: string;
	options?: IDataObject;
	authentication?: 'application' | 'oAuth2';
	/** n8n keys the trigger by workflow; a test that counts polls takes its own. */
	workflowId?: string;
}

async function poll({
	userIds,
	staticData = {},
	mode = 'trigger',
	triggerOn = 'anyChange',
	options = {},
	authentication = 'application',
	workflowId,
}: PollArgs) {
	const credentialType =
		authentication === 'application'
			? 'microsoftGraphPresenceAppApi'
			: 'microsoftGraphPresenceOAuth2Api';
	const node: INode = {
		id: 'trigger',
		name: 'Presence changed',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { authentication, userIds, triggerOn, options } as INodeParameters,
		credentials: {
			[credentialType]: {
				id: authentication === 'application' ? 'app' : 'delegated',
				name: 'Graph',
			},
		},
	};
	return await runPoll({
		workflow: { id: workflowId, nodes: [node], connections: {}, staticData },
		nodeTypes: triggerNodeTypes,
		credentialTypes,
		credentials,
		node: node.name,
		mode,
	});
}

const users = (from: number, to: number) => emu.users.slice(from, to);
const presenceRequests = () => emu.requests('/communications/getPresencesByUserId');
const flip = (id: string) => {
	const current = emu.getUser(id)?.presence.availability;
	return emu.setPresence(
		id,
		current === 'Available'
			? { availability: 'Busy', activity: 'InACall' }
			: { availability: 'Available', activity: 'Available' },
	);
};

describe("Presence Trigger (polling) through n8n-core's PollContext", () => {
	it('three failed polls in a row are reported through n8n’s error path; the next good poll reports what changed meanwhile', async () => {
		const watched = users(20, 25).map((user) => user.id);
		const args = { userIds: watched.join(','), workflowId: 'wf-failing-polls' };
		const baseline = await poll(args);
		expect(baseline.items).toBeNull();
		const state = baseline.staticData;
		const clientId = 'cccccccc-0000-4000-8000-000000000001';
		emu.unconsentedClients.add(clientId);
		try {
			const reported: Error[] = [];
			for (let i = 0; i < 3; i++) {
				const failed = await poll({ ...args, staticData: state });
				expect(failed.items).toBeNull();
				reported.push(...failed.reportedErrors);
				if (i < 2) expect(reported).toEqual([]);
			}
			expect(reported.map((error) => error.message)).toEqual([
				expect.stringContaining(
					'Presence changes are not being read: Microsoft Graph answered 403',
				),
			]);
		} finally {
			emu.unconsentedClients.delete(clientId);
		}
		const after = flip(watched[3]);
		const good = await poll({ ...args, staticData: state });
		expect(good.reportedErrors).toEqual([]);
		expect(good.items?.map((item) => [item.json.id, item.json.availability])).toEqual([
			[watched[3], after.availability],
		]);
	});

	it('records a baseline silently, then emits one item per changed user with previous values', async () => {
		const watched = users(0, 1000).map((user) => user.id);
		const first = await poll({ userIds: watched.join(',') });
		expect(first.error).toBeUndefined();
		expect(first.items).toBeNull();
		expect(presenceRequests()).toHaveLength(2);
		const state = first.staticData;

		const before = { ...emu.getUser(watched[10])!.presence };
		const after = flip(watched[10]);
		const second = await poll({ userIds: watched.join(','), staticData: state });
		expect(second.items).toHaveLength(1);
		expect(second.items?.[0].json).toMatchObject({
			id: watched[10],
			event: 'changed',
			changeId: `${watched[10].toLowerCase()}:${after.sequenceNumber}`,
			availability: after.availability,
			activity: after.activity,
			sequenceNumber: after.sequenceNumber,
			changed: ['availability', 'activity'],
			previous: {
				availability: before.availability,
				activity: before.activity,
				sequenceNumber: before.sequenceNumber,
			},
		});
		expect(typeof second.items?.[0].json.observedAt).toBe('string');

		// Nothing changed since: nothing to emit.
		const third = await poll({ userIds: watched.join(','), staticData: second.staticData });
		expect(third.items).toBeNull();
	});

	it('emits many changes at once, one item each', async () => {
		const watched = users(0, 2000).map((user) => user.id);
		const { staticData } = await poll({ userIds: watched });
		const changed = watched.filter((_, i) => i % 20 === 3);
		for (const id of changed) flip(id);
		const result = await poll({ userIds: watched, staticData });
		expect(result.items?.map((item) => item.json.id).sort()).toEqual([...changed].sort());
	});

	it('filters: availability only, activity only, and transitions to / from an availability', async () => {
		const [a, b, c] = users(2000, 2003).map((user) => user.id);
		for (const id of [a, b, c]) emu.setPresence(id, { availability: 'Busy', activity: 'InACall' });
		const ids = [a, b, c].join(',');
		let state = (await poll({ userIds: ids })).staticData;

		emu.setPresence(a, { availability: 'Busy', activity: 'InAMeeting' });
		const availabilityOnly = await poll({
			userIds: ids,
			staticData: state,
			triggerOn: 'availabilityChanged',
		});
		expect(availabilityOnly.items).toBeNull();
		state = availabilityOnly.staticData;

		emu.setPresence(a, { availability: 'Busy', activity: 'InACall' });
		const activityOnly = await poll({
			userIds: ids,
			staticData: state,
			triggerOn: 'activityChanged',
		});
		expect(activityOnly.items?.map((item) => item.json.id)).toEqual([a]);
		state = activityOnly.staticData;

		emu.setPresence(b, { availability: 'Available', activity: 'Available' });
		emu.setPresence(c, { availability: 'Away', activity: 'Away' });
		const toAvailable = await poll({
			userIds: ids,
			staticData: state,
			options: { toAvailability: ['Available'] },
		});
		expect(toAvailable.items?.map((item) => item.json.id)).toEqual([b]);
		state = toAvailable.staticData;

		emu.setPresence(b, { availability: 'Busy', activity: 'InACall' });
		emu.setPresence(c, { availability: 'Busy', activity: 'InACall' });
		const fromAway = await poll({
			userIds: ids,
			staticData: state,
			options: { fromAvailability: ['Away'] },
		});
		expect(fromAway.items?.map((item) => item.json.id)).toEqual([c]);
	});

	it('watches status message and out of office only when asked', async () => {
		const id = users(2010, 2011)[0].id;
		let state = (await poll({ userIds: id })).staticData;
		emu.setPresence(id, { outOfOfficeSettings: { isOutOfOffice: true, message: 'On leave' } });
		const plain = await poll({ userIds: id, staticData: state });
		expect(plain.items).toBeNull();
		state = plain.staticData;
		emu.setPresence(id, { outOfOfficeSettings: { isOutOfOffice: false, message: null } });
		const watched = await poll({
			userIds: id,
			staticData: state,
			options: { alsoWatch: ['outOfOffice'] },
		});
		expect(watched.items?.[0].json).toMatchObject({
			id,
			changed: ['outOfOffice'],
			isOutOfOffice: false,
			previous: { isOutOfOffice: true },
		});
	});

	it('ignores answers whose sequence number is not newer than the last one seen', async () => {
		const id = users(2020, 2021)[0].id;
		const { staticData } = await poll({ userIds: id });
		// What a stale replica would look like: the stored version is newer than anything Graph answers now.
		const state = staticData['node:Presence changed'] as { users: Record<string, string> };
		const stored = decodeStored(state.users[id]);
		expect(stored?.q).toBe(emu.getUser(id)?.presence.sequenceNumber);
		state.users[id] = encodeStored({ ...stored!, q: '9999999999999999999999' });
		flip(id);
		const result = await poll({ userIds: id, staticData });
		expect(result.items).toBeNull();
	});

	it('starts added users from a baseline and forgets removed ones', async () => {
		const [a, b, c] = users(2030, 2033).map((user) => user.id);
		const first = await poll({ userIds: [a, b] });
		flip(c);
		const added = await poll({ userIds: [a, b, c], staticData: first.staticData });
		expect(added.items).toBeNull();
		flip(c);
		const removedB = await poll({ userIds: [a, c], staticData: added.staticData });
		expect(removedB.items?.map((item) => item.json.id)).toEqual([c]);
		expect(JSON.stringify(removedB.staticData)).not.toContain(b);
		expect(JSON.stringify(removedB.staticData)).toContain(a);
	});

	it('a failed poll is logged and changes nothing; the next good poll emits the change once', async () => {
		const ids = users(2040, 2045).map((user) => user.id);
		const first = await poll({ userIds: ids });
		flip(ids[2]);
		// 504: a fault, given up after Max Retries (a 503 with Retry-After would be throttling, waited out).
		emu.faults = { rate504: 1 };
		const failed = await poll({
			userIds: ids,
			staticData: first.staticData,
			options: { maxRetries: 1 },
		});
		expect(failed.error).toBeUndefined();
		expect(failed.items).toBeNull();
		expect(failed.staticData).toEqual(first.staticData);
		expect(failed.logs.join('\n')).toContain('poll failed');
		emu.faults = {};
		const good = await poll({ userIds: ids, staticData: failed.staticData });
		expect(good.items?.map((item) => item.json.id)).toEqual([ids[2]]);
		const again = await poll({ userIds: ids, staticData: good.staticData });
		expect(again.items).toBeNull();
	});

	it('in manual mode ("Fetch Test Event") returns everyone\'s current presence, and throws clear errors', async () => {
		const ids = users(2050, 2053).map((user) => user.id);
		const result = await poll({ userIds: ids, mode: 'manual' });
		expect(
			result.items?.map((item) => [item.json.id, item.json.availability, item.json.event]),
		).toEqual(ids.map((id) => [id, emu.getUser(id)?.presence.availability, 'current']));
		// Fetching a test event records nothing: the first active poll still starts from a baseline.
		expect(result.staticData['node:Presence changed'] ?? {}).toEqual({});
		const bad = await poll({ userIds: 'not-an-id', mode: 'manual' });
		expect(bad.error?.message).toContain('"not-an-id" is neither');
	});

	it('can emit the current presence once on activation', async () => {
		const ids = users(2060, 2062).map((user) => user.id);
		const first = await poll({ userIds: ids, options: { emitOnActivation: true } });
		expect(first.items?.map((item) => item.json.id)).toEqual(ids);
		const second = await poll({
			userIds: ids,
			staticData: first.staticData,
			options: { emitOnActivation: true },
		});
		expect(second.items).toBeNull();
	});

	it('works with the delegated credential', async () => {
		const ids = users(2070, 2072).map((user) => user.id);
		const first = await poll({ userIds: ids, authentication: 'oAuth2' });
		flip(ids[1]);
		const second = await poll({
			userIds: ids,
			authentication: 'oAuth2',
			staticData: first.staticData,
		});
		expect(second.items?.map((item) => item.json.id)).toEqual([ids[1]]);
		expect(presenceRequests().every((entry) => entry.tokenKind === 'delegated')).toBe(true);
	});

	it('resolves watched names once and keeps them, not once a poll', async () => {
		const watched = users(2080, 2085);
		const names = watched.map((user) => user.userPrincipalName).join('\n');
		const first = await poll({ userIds: names });
		expect(emu.requests('/$batch').filter((entry) => !entry.batchSubRequest)).toHaveLength(1);
		emu.clearLog();
		flip(watched[4].id);
		const second = await poll({ userIds: names, staticData: first.staticData });
		expect(emu.requests('/$batch')).toHaveLength(0);
		expect(second.items?.map((item) => item.json.id)).toEqual([watched[4].id]);
	});

	it('watching 10,000 users costs 16 requests a poll', async () => {
		const ids = users(0, 10_000).map((user) => user.id);
		const first = await poll({ userIds: ids });
		expect(presenceRequests()).toHaveLength(16);
		emu.clearLog();
		flip(ids[9_999]);
		const second = await poll({ userIds: ids, staticData: first.staticData });
		expect(presenceRequests()).toHaveLength(16);
		expect(second.items?.map((item) => item.json.id)).toEqual([ids[9_999]]);
	});

	it("watches a group's members, reading the member list on its own schedule, not every poll", async () => {
		const group = emu.addGroup({
			displayName: 'On call',
			members: users(3000, 3010).map((user) => user.id),
		});
		const node = (staticData: IDataObject) =>
			staticData['node:Presence changed'] as { group: { ids: string[]; at: number } };
		const pollGroup = (staticData?: IDataObject) =>
			runPoll({
				workflow: {
					nodes: [
						{
							id: 'trigger',
							name: 'Presence changed',
							type: TRIGGER_TYPE,
							typeVersion: 1,
							position: [0, 0],
							parameters: {
								authentication: 'application',
								usersFrom: 'group',
								group: 'On call',
								groupRefreshMinutes: 30,
								triggerOn: 'anyChange',
							},
							credentials: { microsoftGraphPresenceAppApi: { id: 'app', name: 'Graph' } },
						},
					],
					connections: {},
					staticData: staticData ?? {},
				},
				nodeTypes: triggerNodeTypes,
				credentialTypes,
				credentials,
				node: 'Presence changed',
				mode: 'trigger',
			});
		const first = await pollGroup();
		expect(node(first.staticData).group.ids).toHaveLength(10);
		expect(emu.requests(`/groups/${group.id}/transitiveMembers`)).toHaveLength(1);

		emu.addGroupMembers(group.id, [users(3010, 3011)[0].id]);
		flip(users(3000, 3001)[0].id);
		emu.clearLog();
		const second = await pollGroup(first.staticData);
		expect(emu.requests('/transitiveMembers')).toHaveLength(0);
		expect(second.items?.map((item) => item.json.id)).toEqual([users(3000, 3001)[0].id]);

		// Once the refresh interval has passed, the new member is read and starts from a baseline.
		node(second.staticData).group.at -= 31 * 60_000;
		const third = await pollGroup(second.staticData);
		expect(emu.requests('/transitiveMembers')).toHaveLength(1);
		expect(node(third.staticData).group.ids).toHaveLength(11);
		expect(third.items).toBeNull();
	});
});

describe('Presence Trigger (polling): Hold For, Active Hours and activity filters', () => {
	const set = (id: string, availability: string, activity: string) =>
		emu.setPresence(id, { availability, activity });
	const idsOf = (items: Array<{ json: IDataObject }> | null) =>
		items?.map((item) => item.json.id) ?? null;
	const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
	const node = (staticData: IDataObject) => staticData['node:Presence changed'] as IDataObject;

	it('Only To / From Activity, with newer values and values typed by hand', async () => {
		const [a, b, c] = users(2100, 2103).map((user) => user.id);
		for (const id of [a, b, c]) set(id, 'Busy', 'InACall');
		const ids = [a, b, c].join(',');
		let state = (await poll({ userIds: ids })).staticData;

		set(a, 'Busy', 'Presenting');
		set(b, 'Busy', 'InAMeeting');
		const toPresenting = await poll({
			userIds: ids,
			staticData: state,
			options: { toActivity: ['Presenting'] },
		});
		expect(idsOf(toPresenting.items)).toEqual([a]);
		state = toPresenting.staticData;

		set(a, 'Available', 'Available');
		set(c, 'Busy', 'Focusing');
		// Typed as text in an expression, as someone naming values the list does not offer would.
		const fromPresenting = await poll({
			userIds: ids,
			staticData: state,
			options: { fromActivity: 'presenting, UrgentInterruptionsOnly' },
		});
		expect(idsOf(fromPresenting.items)).toEqual([a]);
		expect(fromPresenting.items?.[0].json.previous).toMatchObject({ activity: 'Presenting' });
		state = fromPresenting.staticData;

		set(b, 'Busy', 'Focusing');
		const toFocusing = await poll({
			userIds: ids,
			staticData: state,
			options: { toActivity: ['Focusing'] },
		});
		expect(idsOf(toFocusing.items)).toEqual([b]);
	});

	it('Hold For: a flip back inside the window is silence; a state that lasted is emitted once, from where it was', async () => {
		const [a, b] = users(2110, 2112).map((user) => user.id);
		for (const id of [a, b]) set(id, 'Available', 'Available');
		const ids = [a, b].join(',');
		const options = { holdForMinutes: 0.02 }; // 1.2 s
		let result = await poll({ userIds: ids, options });
		expect(result.items).toBeNull();

		set(a, 'Away', 'Away');
		set(b, 'Busy', 'InACall');
		result = await poll({ userIds: ids, staticData: result.staticData, options });
		expect(result.items).toBeNull(); // both held
		expect(Object.keys(node(result.staticData).held as IDataObject).sort()).toEqual(
			[a, b].map((id) => id.toLowerCase()).sort(),
		);

		set(a, 'Available', 'Available'); // back before the window ended
		await sleep(1500);
		result = await poll({ userIds: ids, staticData: result.staticData, options });
		expect(idsOf(result.items)).toEqual([b]);
		expect(result.items?.[0].json).toMatchObject({
			availability: 'Busy',
			event: 'changed',
			previous: { availability: 'Available' },
		});
		expect(node(result.staticData).held).toBeUndefined();

		result = await poll({ userIds: ids, staticData: result.staticData, options });
		expect(result.items).toBeNull();
	});

	it('Active Hours: nothing outside them; the window opening emits everyone once when asked; a bad time zone is named', async () => {
		const watched = users(2120, 2123).map((user) => user.id);
		const ids = watched.join(',');
		const today = new Date().getUTCDay();
		const hours = (days: number[]) => ({
			activeHours: { hours: { days, from: '00:00', to: '24:00', timeZone: 'UTC' } },
			emitWhenActiveHoursStart: true,
		});
		const closed = hours([(today + 3) % 7]);
		let result = await poll({ userIds: ids, options: { ...closed, emitOnActivation: true } });
		expect(result.items).toBeNull(); // outside Active Hours even Emit on Activation is quiet
		flip(watched[0]);
		result = await poll({ userIds: ids, staticData: result.staticData, options: closed });
		expect(result.items).toBeNull();
		expect(node(result.staticData).active).toBe(false);

		const open = hours([]); // every day, all day: open now
		result = await poll({ userIds: ids, staticData: result.staticData, options: open });
		expect(idsOf(result.items)).toEqual(watched);
		expect(result.items?.every((item) => item.json.event === 'current')).toBe(true);

		flip(watched[1]);
		result = await poll({ userIds: ids, staticData: result.staticData, options: open });
		expect(idsOf(result.items)).toEqual([watched[1]]);
		expect(result.items?.[0].json.event).toBe('changed');

		const bad = await poll({
			userIds: ids,
			staticData: result.staticData,
			mode: 'manual',
			options: {
				activeHours: { hours: { from: '08:00', to: '18:00', timeZone: 'Mars/Olympus_Mons' } },
			},
		});
		expect(bad.error?.message).toContain('"Mars/Olympus_Mons" is not a time zone');
	});
});
