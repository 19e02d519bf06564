import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import { runPoll, type HarnessCredential } from '../harness';
import {
	appSecretCredential,
	credentialTypes,
	registerApp,
	TRIGGER_TYPE,
	triggerNodeTypes,
} from './support';

/**
 * A poll waits for the app's Graph budget only until the next poll is due: when the budget is spent
 * (here the emulator's throttle allows one request per ten minutes, so Graph's Retry-After is longer
 * than the poll interval), the poll is skipped and counted instead of queueing behind the others, and
 * the next poll that reads compares against the last good one.
 */

let emu: GraphEmulator;
const credentials: Record<string, HarnessCredential> = {};

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 61 });
	emu.addUsers(30);
	for (const [name, clientId] of [
		['spent', 'afafafaf-0000-4000-8000-000000000001'],
		['fresh', 'afafafaf-0000-4000-8000-000000000002'],
		['brief', 'afafafaf-0000-4000-8000-000000000003'],
	] as const)
		credentials[name] = appSecretCredential(emu, await registerApp(emu, clientId));
});
afterAll(async () => await emu.stop());

async function poll(credentialId: string, staticData: IDataObject) {
	const node: INode = {
		id: 'trigger',
		name: 'Presence changed',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			authentication: 'application',
			userIds: emu.users
				.slice(0, 10)
				.map((user) => user.id)
				.join(','),
			triggerOn: 'anyChange',
			options: {},
			pollTimes: { item: [{ mode: 'everyMinute' }] },
		} as INodeParameters,
		credentials: { microsoftGraphPresenceAppApi: { id: credentialId, name: 'Graph' } },
	};
	return await runPoll({
		workflow: { nodes: [node], connections: {}, staticData },
		nodeTypes: triggerNodeTypes,
		credentialTypes,
		credentials,
		node: node.name,
		mode: 'trigger',
	});
}

const presenceCalls = () => emu.requests('/communications/getPresencesByUserId');
const skipped = (logs: string[]) => logs.filter((line) => line.includes('poll skipped'));

describe('a poll that cannot start before the next one is due', () => {
	it('is skipped and counted, sends nothing more, and the next good poll reports what changed since the last good one', async () => {
		emu.throttle = { limit: 1, windowMs: 10 * 60_000 };
		const first = await poll('spent', {});
		expect(first.error).toBeUndefined();
		expect(first.items).toBeNull();
		const baseline = first.staticData;

		const changed = emu.users[3].id;
		emu.setPresence(changed, { availability: 'Busy', activity: 'InACall' });
		emu.clearLog();

		// Graph answers 429 with a Retry-After of about ten minutes: longer than the minute to the next poll.
		const second = await poll('spent', baseline);
		expect(second.error).toBeUndefined();
		expect(second.items).toBeNull();
		expect(presenceCalls().map((entry) => entry.status)).toEqual([429]);
		expect(skipped(second.logs)).toEqual([expect.stringContaining('poll skipped (1 in a row)')]);

		// The budget is known to be spent: the next poll sends nothing at all.
		const third = await poll('spent', second.staticData);
		expect(third.items).toBeNull();
		expect(presenceCalls()).toHaveLength(1);
		expect(skipped(third.logs)).toEqual([expect.stringContaining('poll skipped (2 in a row)')]);
		// Nothing but the count changed: the state is the last good poll's.
		const { skippedPolls, ...rest } = third.staticData['node:Presence changed'] as IDataObject;
		expect(skippedPolls).toBe(2);
		expect(rest).toEqual(baseline['node:Presence changed']);

		// With budget again (here another app's), the poll reports the change since the last good poll.
		const fourth = await poll('fresh', third.staticData);
		expect(fourth.error).toBeUndefined();
		expect(fourth.items?.map((item) => [item.json.id, item.json.availability])).toEqual([
			[changed, 'Busy'],
		]);
		expect(fourth.logs).toEqual(
			expect.arrayContaining([expect.stringContaining('polling again after 2 skipped polls')]),
		);
		expect(fourth.staticData['node:Presence changed']).not.toHaveProperty('skippedPolls');
	});

	it('still waits for the budget when it frees before the next poll is due', async () => {
		emu.throttle = { limit: 1, windowMs: 2000 };
		const first = await poll('brief', {});
		expect(first.error).toBeUndefined();
		emu.clearLog();
		const second = await poll('brief', first.staticData);
		expect(second.error).toBeUndefined();
		expect(skipped(second.logs)).toEqual([]);
		expect(presenceCalls().map((entry) => entry.status)).toEqual([429, 200]);
	});
});
