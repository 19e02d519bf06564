import type { ILoadOptionsFunctions, INodeParameters } from 'n8n-workflow';

import type { GraphEmulator } from '../emulator';
import type { HarnessCredential } from '../harness';
import { nodeTypes, PRESENCE_TYPE, runPresence, type TestApp, useEmulator } from './support';

let emu: GraphEmulator;
let app: TestApp;
let credentials: Record<string, HarnessCredential>;

useEmulator(
	{
		seed: 31,
		users: 1500,
		clientId: 'dddddddd-0000-4000-8000-000000000001',
		credentials: ['app', 'delegated'],
	},
	(started) => ({ emu, app, credentials } = started),
);

function run(
	authentication: 'application' | 'oAuth2',
	items: Array<Record<string, unknown>>,
	parameters: INodeParameters,
	continueOnFail = false,
) {
	return runPresence({
		items,
		parameters,
		authentication,
		credentialId: authentication === 'application' ? 'app' : 'delegated',
		continueOnFail,
		credentials,
	});
}

const posts = (action: string) =>
	emu.requests(action).filter((entry) => entry.method === 'POST' && !entry.batchSubRequest);

describe('Set / Clear Presence', () => {
	it("sends exactly Graph's body, one request and one result per user, and reads back", async () => {
		const [a, b] = emu.users;
		const result = await run('application', [{ ids: `${a.id}, ${b.userPrincipalName}` }], {
			operation: 'setPresence',
			userIds: '={{ $json.ids }}',
			presence: 'Busy/InACall',
			expirationDuration: 'PT1H',
		});
		expect(result.error).toBeUndefined();
		expect(posts('/presence/setPresence').map((entry) => [entry.path, entry.body])).toEqual([
			[
				`/v1.0/users/${a.id}/presence/setPresence`,
				{
					sessionId: app.clientId,
					availability: 'Busy',
					activity: 'InACall',
					expirationDuration: 'PT1H',
				},
			],
			[
				`/v1.0/users/${b.id}/presence/setPresence`,
				{
					sessionId: app.clientId,
					availability: 'Busy',
					activity: 'InACall',
					expirationDuration: 'PT1H',
				},
			],
		]);
		expect(result.output('Presence').map((item) => [item.json, item.pairedItem])).toEqual([
			[
				{
					id: a.id,
					operation: 'setPresence',
					sessionId: app.clientId,
					availability: 'Busy',
					activity: 'InACall',
					expirationDuration: 'PT1H',
				},
				{ item: 0 },
			],
			[
				{
					id: b.id,
					operation: 'setPresence',
					sessionId: app.clientId,
					availability: 'Busy',
					activity: 'InACall',
					expirationDuration: 'PT1H',
				},
				{ item: 0 },
			],
		]);

		const read = await run('application', [{}], {
			operation: 'getMany',
			userIds: `${a.id},${b.id}`,
		});
		expect(
			read.output('Presence').map((item) => [item.json.availability, item.json.activity]),
		).toEqual([
			['Busy', 'InACall'],
			['Busy', 'InACall'],
		]);

		const cleared = await run('application', [{}], { operation: 'clearPresence', userIds: a.id });
		expect(cleared.output('Presence')[0].json).toEqual({
			id: a.id,
			operation: 'clearPresence',
			sessionId: app.clientId,
			cleared: true,
		});
		expect(emu.presenceSessions(a.id)).toHaveLength(0);
	});

	it("explains Graph's 404 for a session that does not exist", async () => {
		const result = await run('application', [{}], {
			operation: 'clearPresence',
			userIds: emu.users[5].id,
			sessionId: '0f0f0f0f-0000-4000-8000-000000000000',
		});
		const error = result.error as (Error & { description?: string; httpCode?: string }) | undefined;
		expect(error?.httpCode).toBe('404');
		expect(error?.description).toContain(
			'Clear Presence ends only a session that Set Presence started with the same Session ID',
		);
	});

	it('refuses an invalid pair or duration before any request, naming the item and the value', async () => {
		const pair = await run('application', [{}, { p: 'Offline/OffWork' }], {
			operation: 'setPresence',
			userIds: emu.users[0].id,
			presence: '={{ $json.p ?? "Away/Away" }}',
		});
		expect(pair.error?.message).toContain('Item 1');
		expect(pair.error?.message).toContain('"Offline/OffWork"');
		const duration = await run('application', [{}], {
			operation: 'setPresence',
			userIds: emu.users[0].id,
			presence: 'Away/Away',
			expirationDuration: 'PT8H',
		});
		expect(duration.error?.message).toContain('"PT8H" is not a duration');
		expect(
			emu.log.filter((entry) => entry.method === 'POST' && entry.path.includes('/presence/')),
		).toHaveLength(0);
	});

	it('"me" goes to /me with the delegated credential and is refused with the application one', async () => {
		const delegated = await run('oAuth2', [{}], {
			operation: 'setPresence',
			userIds: 'me',
			presence: 'Away/Away',
			expirationDuration: 'PT5M',
		});
		expect(delegated.error).toBeUndefined();
		expect(posts('/me/presence/setPresence')).toHaveLength(1);
		const refused = await run('application', [{}], {
			operation: 'setPresence',
			userIds: 'me',
			presence: 'Away/Away',
		});
		expect(refused.error?.message).toContain('"me" needs the delegated (OAuth2) credential');
	});
});

describe('Preferred presence, status message, work location', () => {
	it('sets and clears preferred presence, until cleared or for a while', async () => {
		const user = emu.users[10];
		const set = await run('application', [{}], {
			operation: 'setPreferredPresence',
			userIds: user.id,
			preferredPresence: 'DoNotDisturb/DoNotDisturb',
		});
		expect(posts('/setUserPreferredPresence')[0].body).toEqual({
			availability: 'DoNotDisturb',
			activity: 'DoNotDisturb',
		});
		expect(set.output('Presence')[0].json).toMatchObject({
			availability: 'DoNotDisturb',
			activity: 'DoNotDisturb',
		});
		expect(emu.effectivePresence(user.id).availability).toBe('DoNotDisturb');
		emu.clearLog();
		await run('application', [{}], {
			operation: 'setPreferredPresence',
			userIds: user.id,
			preferredPresence: 'BeRightBack/BeRightBack',
			preferredExpiration: 'PT30M',
		});
		expect(posts('/setUserPreferredPresence')[0].body).toEqual({
			availability: 'BeRightBack',
			activity: 'BeRightBack',
			expirationDuration: 'PT30M',
		});
		await run('application', [{}], { operation: 'clearPreferredPresence', userIds: user.id });
		expect(emu.preferredPresence(user.id)).toBeUndefined();
	});

	it('sets a status message with an expiry in the right time zone, and clears it', async () => {
		const user = emu.users[11];
		await run('application', [{}], {
			operation: 'setStatusMessage',
			userIds: user.id,
			statusMessage: 'In workshops until Friday',
			expiresAt: '2026-11-27T18:00:00',
			timeZone: 'Europe/Berlin',
		});
		expect(posts('/setStatusMessage')[0].body).toEqual({
			statusMessage: {
				message: { content: 'In workshops until Friday', contentType: 'text' },
				expiryDateTime: { dateTime: '2026-11-27T18:00:00', timeZone: 'Europe/Berlin' },
			},
		});
		expect(emu.effectivePresence(user.id).statusMessage?.message?.content).toBe(
			'In workshops until Friday',
		);
		emu.clearLog();
		await run('application', [{}], {
			operation: 'setStatusMessage',
			userIds: user.id,
			statusMessage: 'Back soon',
			expiresAt: '2026-11-27T18:00:00+01:00',
		});
		expect(
			(posts('/setStatusMessage')[0].body as { statusMessage: { expiryDateTime: unknown } })
				.statusMessage.expiryDateTime,
		).toEqual({
			dateTime: '2026-11-27T17:00:00',
			timeZone: 'UTC',
		});
		await run('application', [{}], { operation: 'clearStatusMessage', userIds: user.id });
		expect(emu.effectivePresence(user.id).statusMessage ?? null).toBeNull();
	});

	it("sets and clears the work location for the signed-in user, accepting Graph's 204", async () => {
		const set = await run('oAuth2', [{}], {
			operation: 'setWorkLocation',
			workLocationType: 'remote',
		});
		expect(set.error).toBeUndefined();
		expect(
			posts('/me/presence/setManualLocation').map((entry) => [entry.status, entry.body]),
		).toEqual([[204, { workLocationType: 'remote' }]]);
		expect(emu.effectivePresence(emu.meUserId ?? '').workLocation?.workLocationType).toBe('remote');
		const cleared = await run('oAuth2', [{}], { operation: 'clearWorkLocation' });
		expect(cleared.output('Presence')[0].json).toMatchObject({
			operation: 'clearWorkLocation',
			cleared: true,
		});
		const refused = await run('application', [{}], {
			operation: 'setWorkLocation',
			workLocationType: 'office',
		});
		expect(refused.error?.message).toContain('needs the delegated (OAuth2) credential');
	});

	it('with Continue On Fail, a failing user yields an error item and the others are set', async () => {
		const result = await run(
			'application',
			[{ ids: emu.users[20].id }, { ids: 'ghost@contoso.test' }, { ids: emu.users[21].id }],
			{
				operation: 'setPreferredPresence',
				userIds: '={{ $json.ids }}',
				preferredPresence: 'Away/Away',
			},
			true,
		);
		const output = result.output('Presence');
		expect(output.map((item) => [item.json.id, Boolean(item.json.error), item.pairedItem])).toEqual(
			[
				[emu.users[20].id, false, { item: 0 }],
				['ghost@contoso.test', true, { item: 1 }],
				[emu.users[21].id, false, { item: 2 }],
			],
		);
	});
});

describe('groups and the user picker', () => {
	it("Get Many reads a group's transitive members over several pages, users only", async () => {
		const inner = emu.addGroup({
			displayName: 'Tier 2',
			members: emu.users.slice(1000, 1400).map((user) => user.id),
		});
		const outer = emu.addGroup({
			displayName: 'Support Team',
			members: [...emu.users.slice(0, 700).map((user) => user.id), inner.id],
			nonUserMembers: 5,
		});
		const result = await run('application', [{}], {
			operation: 'getMany',
			usersFrom: 'group',
			group: 'Support Team',
		});
		expect(result.error).toBeUndefined();
		const ids = result.output('Presence').map((item) => item.json.id);
		expect(ids).toHaveLength(1100);
		expect(new Set(ids)).toEqual(
			new Set([...emu.users.slice(0, 700), ...emu.users.slice(1000, 1400)].map((user) => user.id)),
		);
		expect(emu.requests(`/groups/${outer.id}/transitiveMembers`).length).toBeGreaterThan(1);
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(2);
	});

	it('names a group that does not exist', async () => {
		const result = await run('application', [{}], {
			operation: 'getMany',
			usersFrom: 'group',
			group: 'Nobody Here',
		});
		expect(result.error?.message).toContain('No group named "Nobody Here"');
	});

	it('Get User takes a picked user (resource locator) as well as plain text', async () => {
		const user = emu.users[42];
		const picked = await run('application', [{}], {
			operation: 'get',
			userId: { __rl: true, mode: 'list', value: user.id, cachedResultName: user.displayName },
		});
		expect(picked.output('Presence')[0].json.id).toBe(user.id);
		const byName = await run('application', [{}], {
			operation: 'get',
			userId: { __rl: true, mode: 'upn', value: user.userPrincipalName },
		});
		expect(byName.output('Presence')[0].json.id).toBe(user.id);
	});

	it("the picker's search finds users by name or e-mail, page by page", async () => {
		const searchMethod = nodeTypes[PRESENCE_TYPE].methods?.listSearch?.searchUsers;
		if (!searchMethod) throw new Error('the node has no user search');
		const searchUsers = (context: ILoadOptionsFunctions, filter?: string, token?: string) =>
			searchMethod.call(context, filter, token);
		// A load-options context as n8n builds it, reduced to what the search uses (the odd unit test: the
		// HTTP still goes through the real Graph client to the emulator).
		const { helpersFor } = await import('./loadOptions');
		const context = await helpersFor(emu, credentials.app, 'application');
		const first = await searchUsers(context, 'User 12');
		expect(first.results.length).toBeGreaterThan(0);
		expect(first.results.every((result) => result.name.includes('User 12'))).toBe(true);
		const search = emu.requests('/users').find((entry) => entry.query.$search);
		expect(search?.headers.consistencylevel).toBe('eventual');
		const all = await searchUsers(context);
		expect(all.results).toHaveLength(50);
		expect(all.paginationToken).toBeDefined();
		const next = await searchUsers(context, undefined, all.paginationToken);
		expect(next.results[0].value).not.toBe(all.results[0].value);
	});
});
