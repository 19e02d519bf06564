import type { IDataObject, INode, INodeParameters, IPairedItemData } from 'n8n-workflow';

import { GraphEmulator, type LogEntry } from '../emulator';
import { DIST, requireBuilt } from '../shared/builtPackage';
import { runPoll, runWorkflow, type HarnessCredential } from '../harness';
import {
	appSecretCredential,
	credentialTypes,
	delegatedCredential,
	nodeTypes,
	presenceWorkflow,
	registerApp,
	TRIGGER_TYPE,
	triggerNodeTypes,
	type TestApp,
} from './support';

/**
 * People, not GUIDs (#15): users named by e-mail address, UPN or id in a directory where mail and UPN differ;
 * addresses two users share or nobody has; Include User Details in the node and the polling trigger, with the
 * Graph requests it costs.
 */

// The cache of names lives in the built module the node loads: forgotten between tests that count requests.
const { clearUserDetails } = requireBuilt<{ clearUserDetails: () => void }>(
	DIST,
	'nodes/shared/users/userDetails.js',
);

const TENANT_USERS = 100_000;

let emu: GraphEmulator;
let app: TestApp;
let credentials: Record<string, HarnessCredential>;

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 15 });
	emu.addUsers(TENANT_USERS);
	app = await registerApp(emu, 'dddddddd-0000-4000-8000-000000000015');
	credentials = {
		app: appSecretCredential(emu, app),
		delegated: await delegatedCredential(emu, app),
	};
});
afterAll(async () => await emu.stop());
beforeEach(() => {
	clearUserDetails();
	emu.clearLog();
	emu.faults = {};
	emu.throttle = { limit: 1500, windowMs: 30_000 };
});

const run = (
	operation: string,
	items: Array<Record<string, unknown>>,
	parameters: Record<string, unknown> = {},
	{
		authentication = 'application',
		continueOnFail = false,
	}: { authentication?: 'application' | 'oAuth2'; continueOnFail?: boolean } = {},
) =>
	runWorkflow({
		workflow: presenceWorkflow({
			items,
			parameters: { operation, ...parameters },
			authentication,
			credentialId: authentication === 'application' ? 'app' : 'delegated',
			continueOnFail,
		}),
		nodeTypes,
		credentialTypes,
		credentials,
	});

const getMany = (items: Array<Record<string, unknown>>, options: IDataObject = {}) =>
	run('getMany', items, { userIds: '={{ $json.ids }}', options });

/** Graph's own requests (every sub-request of a batch, not the envelope), and the HTTP requests sent. */
const graphRequests = (log: LogEntry[] = emu.log) =>
	log.filter((entry) => entry.path.startsWith('/v1.0/') && !entry.path.endsWith('/$batch'));
const httpRequests = () =>
	emu.log.filter((entry) => entry.path.startsWith('/v1.0/') && entry.batchSubRequest !== true);
const directoryRequests = () =>
	graphRequests().filter((entry) => entry.path === '/v1.0/users' || entry.path === '/v1.0/me');

const pairedItems = (paired: unknown): number[] =>
	(Array.isArray(paired) ? (paired as IPairedItemData[]) : [paired as IPairedItemData]).map(
		(p) => p.item,
	);

describe('Users named by e-mail address, user principal name or id', () => {
	it('finds every user whatever the form, where mail differs from the UPN', async () => {
		const people = emu.users.slice(100, 160).filter((user) => user.mail !== user.userPrincipalName);
		expect(people.length).toBeGreaterThanOrEqual(40);
		const byMail = people.slice(0, 20);
		const byUpn = people.slice(20, 30);
		const byId = people.slice(30, 40);
		const result = await getMany([
			{ ids: byMail.map((user) => user.mail.toUpperCase()) },
			{ ids: byUpn.map((user) => user.userPrincipalName).join('; ') },
			{ ids: [...byId.map((user) => user.id), byMail[0].mail] },
		]);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output.filter((item) => item.json.notFound)).toEqual([]);
		const byOutputId = new Map(output.map((item) => [String(item.json.id), item]));
		for (const user of [...byMail, ...byUpn, ...byId])
			expect(byOutputId.get(user.id)?.json.availability).toBe(user.presence.availability);
		// The first address was asked for by items 0 and 2: one item, both paired.
		expect(pairedItems(byOutputId.get(byMail[0].id)?.pairedItem)).toEqual([0, 2]);
		expect(output).toHaveLength(40);
		// GET /users/{mail} would be a 404: the node never asks it. UPNs first (15 a filter), then mail.
		const lookups = directoryRequests();
		expect(lookups.every((entry) => entry.query.$filter !== undefined)).toBe(true);
		expect(lookups.map((entry) => entry.query.$filter.split(' ')[0])).toEqual([
			'userPrincipalName',
			'userPrincipalName',
			'mail',
			'mail',
		]);
		expect(httpRequests().filter((entry) => entry.path === '/v1.0/$batch')).toHaveLength(2);
	});

	it('says which addresses are unknown and which two users share, and finds aliases', async () => {
		const [x, y, z] = emu.users.slice(200, 203);
		const shared = 'support@contoso.example';
		emu.updateUser(x.id, { mail: shared, proxyAddresses: [`SMTP:${shared}`] });
		emu.updateUser(y.id, { mail: shared, proxyAddresses: [...y.proxyAddresses, `smtp:${shared}`] });
		const alias = emu.users[2].proxyAddresses[1].slice('smtp:'.length);
		try {
			const result = await getMany([{ ids: [shared, 'nobody@contoso.example', alias, z.mail] }]);
			expect(result.error).toBeUndefined();
			const json = result.output('Presence').map((item) => item.json);
			expect(json.find((item) => item.id === shared)).toEqual({
				id: shared,
				notFound: true,
				ambiguous: true,
				reason: expect.stringContaining(`2 users have this e-mail address`),
			});
			expect(json.find((item) => item.id === 'nobody@contoso.example')).toEqual({
				id: 'nobody@contoso.example',
				notFound: true,
				reason: expect.stringContaining(
					'No user with this user principal name, e-mail address or alias',
				),
			});
			expect(json.find((item) => item.id === emu.users[2].id)).toBeDefined();
			expect(json.find((item) => item.id === z.id)).toBeDefined();

			// One user per item: the item and the value are named.
			const single = await run('get', [{ u: z.mail }, { u: shared }], { userId: '={{ $json.u }}' });
			expect(single.error?.message).toBe(
				`Item 1: "${shared}" is not one user: 2 users have this e-mail address (${x.userPrincipalName}, ${y.userPrincipalName}): give the user principal name or object ID of the one meant`,
			);
			const write = await run('setStatusMessage', [{}], {
				userIds: 'nobody@contoso.example',
				statusMessage: 'Out',
			});
			expect(write.error?.message).toBe('Item 0: no user "nobody@contoso.example" in this tenant');
		} finally {
			for (const user of [x, y]) {
				const mail = user.userPrincipalName.replace('contoso.test', 'contoso.example');
				emu.updateUser(user.id, {
					mail,
					proxyAddresses: [`SMTP:${mail}`, `smtp:${user.userPrincipalName}`],
				});
			}
		}
	});

	it('writes to users named by e-mail address', async () => {
		const user = emu.users[300];
		const result = await run('setStatusMessage', [{}], {
			userIds: user.mail,
			statusMessage: 'At lunch',
		});
		expect(result.error).toBeUndefined();
		expect(result.output('Presence')[0].json).toMatchObject({ id: user.id });
		expect(emu.effectivePresence(user.id).statusMessage?.message?.content).toBe('At lunch');
	});

	it('retries only the sub-requests Graph throttled inside a $batch, after their own Retry-After', async () => {
		emu.throttle = { limit: 12, windowMs: 1_500 };
		const people = emu.users.slice(400, 700).filter((user) => user.mail !== user.userPrincipalName);
		const result = await getMany([{ ids: people.map((user) => user.mail) }]);
		expect(result.error).toBeUndefined();
		expect(result.output('Presence').filter((item) => item.json.notFound)).toEqual([]);
		const subRequests = emu.log.filter((entry) => entry.batchSubRequest === true);
		const throttled = subRequests.filter((entry) => entry.status === 429);
		expect(throttled.length).toBeGreaterThan(0);
		// Each filter succeeded once: what had succeeded was not sent again with the throttled ones.
		const succeeded = subRequests
			.filter((entry) => entry.status === 200)
			.map((entry) => entry.query.$filter);
		expect(new Set(succeeded).size).toBe(succeeded.length);
		const filters = new Set(subRequests.map((entry) => entry.query.$filter));
		expect(succeeded).toHaveLength(filters.size);
	});

	/** A run on an app of its own: the process's limiter for an app remembers the 429s of earlier tests. */
	const runOwnApp = async (
		clientId: string,
		items: Array<Record<string, unknown>>,
		options: IDataObject,
	) => {
		const own = await registerApp(emu, clientId);
		return await runWorkflow({
			workflow: presenceWorkflow({
				items,
				parameters: { operation: 'getMany', userIds: '={{ $json.ids }}', options },
				authentication: 'application',
				credentialId: 'app',
				continueOnFail: false,
			}),
			nodeTypes,
			credentialTypes,
			credentials: { app: appSecretCredential(emu, own) },
		});
	};

	it('waits out throttled $batch sub-requests past Max Retries: throttling spends Max Throttle Wait, not the count', async () => {
		emu.throttle = { limit: 12, windowMs: 1_500 };
		const people = emu.users
			.slice(700, 1000)
			.filter((user) => user.mail !== user.userPrincipalName);
		const result = await runOwnApp(
			'dddddddd-0000-4000-8000-000000000171',
			[{ ids: people.map((user) => user.mail) }],
			{ maxRetries: 0 },
		);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output.filter((item) => item.json.notFound)).toEqual([]);
		expect(new Set(output.map((item) => item.json.id))).toEqual(
			new Set(people.map((user) => user.id)),
		);
		// Max Retries 0, and yet sub-requests refused were sent again until Graph admitted them.
		const subRequests = emu.log.filter((entry) => entry.batchSubRequest === true);
		expect(subRequests.filter((entry) => entry.status === 429).length).toBeGreaterThan(0);
	});

	it('a throttle budget spent inside a $batch fails with an error naming Max Throttle Wait', async () => {
		// Graph admits one sub-request per 5 s and asks the others to wait; a budget of 0 waits for nothing.
		emu.throttle = { limit: 1, windowMs: 5_000 };
		const people = emu.users
			.slice(1000, 1100)
			.filter((user) => user.mail !== user.userPrincipalName);
		const result = await runOwnApp(
			'dddddddd-0000-4000-8000-000000000172',
			[{ ids: people.slice(0, 40).map((user) => user.mail) }],
			{ maxThrottleWaitMinutes: 0 },
		);
		expect(result.error?.message).toContain('Microsoft Graph kept throttling this execution');
		expect(result.error?.message).toContain('Max Throttle Wait (Minutes) = 0');
		expect(result.error?.description).toContain('Max Throttle Wait (Minutes)');
		// A sub-request refused was not sent again: nothing waited for a Retry-After it could not afford (the
		// app's budget, paused by those 429s, still paces the requests that follow).
		const subRequests = emu.log.filter((entry) => entry.batchSubRequest === true);
		const throttled = subRequests.filter((entry) => entry.status === 429);
		expect(throttled.length).toBeGreaterThan(0);
		const filters = subRequests.map((entry) => entry.query.$filter);
		expect(new Set(filters).size).toBe(filters.length);
	});
});

describe('Include User Details', () => {
	it('over 100,000 users: 154 presence requests, one count and 101 pages of the user list', async () => {
		const ids = emu.users.map((user) => user.id);
		const result = await getMany([{ ids }], { includeUserDetails: true, simplify: true });
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output).toHaveLength(TENANT_USERS);
		const checked = [0, 1, 2, 54_321, TENANT_USERS - 1].map((index) => emu.users[index]);
		const byId = new Map(output.map((item) => [String(item.json.id), item.json]));
		for (const user of checked) {
			expect(byId.get(user.id)).toMatchObject({
				id: user.id,
				availability: user.presence.availability,
				displayName: user.displayName,
				userPrincipalName: user.userPrincipalName,
				mail: user.mail,
			});
		}
		const requests = graphRequests();
		expect(requests.filter((entry) => entry.path.endsWith('/getPresencesByUserId'))).toHaveLength(
			154,
		);
		expect(directoryRequests()).toHaveLength(102);
		expect(directoryRequests().filter((entry) => entry.query.$count === 'true')).toHaveLength(1);
		expect(requests).toHaveLength(154 + 102);

		// Again within the hour: names from the cache, only presence is read.
		emu.clearLog();
		const again = await getMany([{ ids: ids.slice(0, 2000) }], { includeUserDetails: true });
		expect(again.output('Presence')[0].json.user).toEqual({
			displayName: emu.users[0].displayName,
			userPrincipalName: emu.users[0].userPrincipalName,
			mail: emu.users[0].mail,
		});
		expect(directoryRequests()).toHaveLength(0);
	});

	it('a few users by id: 15 a filter in one $batch; null names for an id that is no user', async () => {
		const unknown = '99999999-9999-4999-8999-999999999999';
		const users = emu.users.slice(1000, 1100);
		const result = await getMany([{ ids: [...users.map((user) => user.id), unknown] }], {
			includeUserDetails: true,
		});
		const output = result.output('Presence');
		expect(output[0].json).toMatchObject({
			id: users[0].id,
			availability: users[0].presence.availability,
			user: {
				displayName: users[0].displayName,
				userPrincipalName: users[0].userPrincipalName,
				mail: users[0].mail,
			},
		});
		// An id Graph has no presence for stays notFound, without names.
		expect(output.find((item) => item.json.id === unknown)?.json).toEqual({
			id: unknown,
			notFound: true,
			reason: 'Graph returned no presence for this ID',
		});
		expect(directoryRequests()).toHaveLength(Math.ceil(101 / 15));
		expect(directoryRequests().every((entry) => entry.query.$filter.startsWith('id in ('))).toBe(
			true,
		);
		expect(httpRequests().filter((entry) => entry.path === '/v1.0/$batch')).toHaveLength(1);
	});

	it('users found by address bring their names along; Get User and Get Me carry them too', async () => {
		const user = emu.users[1234];
		const result = await run('get', [{ u: user.mail }], {
			userId: '={{ $json.u }}',
			options: { includeUserDetails: true, simplify: true },
		});
		expect(result.output('Presence')[0].json).toMatchObject({
			id: user.id,
			displayName: user.displayName,
			userPrincipalName: user.userPrincipalName,
			mail: user.mail,
		});
		// The lookup by mail already named the user: no request by id.
		expect(directoryRequests().map((entry) => entry.query.$filter.split(' ')[0])).toEqual([
			'userPrincipalName',
			'mail',
		]);

		const me = emu.getUser(emu.meUserId ?? '');
		const mine = await run(
			'getMe',
			[{}, {}],
			{ options: { includeUserDetails: true } },
			{
				authentication: 'oAuth2',
			},
		);
		expect(mine.output('Presence').map((item) => item.json.user)).toEqual([
			{ displayName: me?.displayName, userPrincipalName: me?.userPrincipalName, mail: me?.mail },
			{ displayName: me?.displayName, userPrincipalName: me?.userPrincipalName, mail: me?.mail },
		]);
		expect(emu.requests('/v1.0/me').filter((entry) => entry.path === '/v1.0/me')).toHaveLength(1);
	});

	it('leaves items as they were without the option', async () => {
		const user = emu.users[5];
		const result = await getMany([{ ids: user.id }], { simplify: true });
		expect(Object.keys(result.output('Presence')[0].json).sort()).toEqual(
			[
				'activity',
				'availability',
				'id',
				'isOutOfOffice',
				'outOfOfficeMessage',
				'sequenceNumber',
				'statusMessage',
				'workLocation',
			].sort(),
		);
		expect(directoryRequests()).toHaveLength(0);
	});
});

describe('Include User Details in the polling trigger', () => {
	const poll = (
		userIds: string,
		staticData: IDataObject,
		mode: 'trigger' | 'manual' = 'trigger',
	) => {
		const node: INode = {
			id: 'trigger',
			name: 'Presence changed',
			type: TRIGGER_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters: {
				authentication: 'application',
				userIds,
				options: { includeUserDetails: true },
			} as INodeParameters,
			credentials: { microsoftGraphPresenceAppApi: { id: 'app', name: 'Graph' } },
		};
		return runPoll({
			workflow: { nodes: [node], connections: {}, staticData },
			nodeTypes: triggerNodeTypes,
			credentialTypes,
			credentials,
			node: node.name,
			mode,
		});
	};
	const flip = (id: string) =>
		emu.setPresence(
			id,
			emu.getUser(id)?.presence.availability === 'Available'
				? { availability: 'Busy', activity: 'InACall' }
				: { availability: 'Available', activity: 'Available' },
		);

	it('names the users in changed items, looking them up once, not on every poll', async () => {
		const watched = emu.users.slice(2000, 3000);
		// Named by e-mail address: resolved (with names) once, then kept in the static data.
		const userIds = watched.map((user) => user.mail).join(',');
		const first = await poll(userIds, {});
		expect(first.error).toBeUndefined();
		expect(first.items).toBeNull();
		clearUserDetails();
		emu.clearLog();

		flip(watched[7].id);
		const second = await poll(userIds, first.staticData);
		expect(second.items).toHaveLength(1);
		expect(second.items?.[0].json).toMatchObject({
			id: watched[7].id,
			event: 'changed',
			displayName: watched[7].displayName,
			userPrincipalName: watched[7].userPrincipalName,
			mail: watched[7].mail,
		});
		// Only the changed user was looked up, by id.
		expect(directoryRequests().map((entry) => entry.query.$filter)).toEqual([
			`id in ('${watched[7].id}')`,
		]);

		emu.clearLog();
		flip(watched[7].id);
		flip(watched[8].id);
		const third = await poll(userIds, second.staticData);
		expect(third.items?.map((item) => item.json.displayName)).toEqual([
			watched[7].displayName,
			watched[8].displayName,
		]);
		expect(directoryRequests().map((entry) => entry.query.$filter)).toEqual([
			`id in ('${watched[8].id}')`,
		]);

		emu.clearLog();
		const quiet = await poll(userIds, third.staticData);
		expect(quiet.items).toBeNull();
		expect(directoryRequests()).toHaveLength(0);

		// Fetch Test Event: everyone named.
		const test = await poll(userIds, third.staticData, 'manual');
		expect(test.items).toHaveLength(1000);
		expect(test.items?.[999].json).toMatchObject({ displayName: watched[999].displayName });
	});
});

describe('Set Preferred Presence as documented', () => {
	it("sends no duration for Graph's default, and durations past 4 hours", async () => {
		const user = emu.users[42];
		const sent = () =>
			emu.requests('/setUserPreferredPresence').map((entry) => entry.body as IDataObject);
		for (const preferredExpiration of ['untilCleared', 'PT8H', 'P7D', 'PT36H']) {
			const result = await run('setPreferredPresence', [{}], {
				userIds: user.id,
				preferredPresence: 'Busy/Busy',
				preferredExpiration,
			});
			expect(result.error).toBeUndefined();
		}
		expect(sent()).toEqual([
			{ availability: 'Busy', activity: 'Busy' },
			{ availability: 'Busy', activity: 'Busy', expirationDuration: 'PT8H' },
			{ availability: 'Busy', activity: 'Busy', expirationDuration: 'P7D' },
			{ availability: 'Busy', activity: 'Busy', expirationDuration: 'PT36H' },
		]);
		const tooShort = await run('setPreferredPresence', [{}], {
			userIds: user.id,
			preferredPresence: 'Busy/Busy',
			preferredExpiration: 'PT1M',
		});
		expect(tooShort.error?.message).toBe(
			'Item 0: "PT1M" is not a duration of at least PT5M (5 minutes), such as PT8H or P1D',
		);
	});
});
