import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import type { HarnessCredential } from '../harness';
import { startRecordingServer, type RecordingServer } from '../shared/recordingServer';
import { helpersFor } from './loadOptions';
import {
	appSecretCredential,
	delegatedCredential,
	nodeTypes,
	PRESENCE_TYPE,
	registerApp,
} from './support';

/**
 * The user picker's pagination token comes back from the browser. It must only ever continue the
 * search it came from, on the credential's own Graph host: otherwise anyone allowed to use a shared
 * credential could make the node read any collection with its token. Run through n8n-core's own
 * load-options context, as the editor's list search runs.
 */

let emu: GraphEmulator;
let elsewhere: RecordingServer;
const credentials: Record<'application' | 'oAuth2', HarnessCredential> = {} as Record<
	'application' | 'oAuth2',
	HarnessCredential
>;

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 51 });
	emu.addUsers(300);
	emu.addGroup({ displayName: 'Secret Project', members: [emu.users[0].id] });
	const app = await registerApp(emu, 'abababab-0000-4000-8000-000000000001');
	credentials.application = appSecretCredential(emu, app);
	credentials.oAuth2 = await delegatedCredential(emu, app);
	elsewhere = await startRecordingServer();
});
afterAll(async () => {
	await elsewhere.close();
	await emu.stop();
});
beforeEach(() => emu.clearLog());

async function search(
	authentication: 'application' | 'oAuth2',
	filter?: string,
	token?: string,
): Promise<INodeListSearchResult> {
	const method = nodeTypes[PRESENCE_TYPE].methods?.listSearch?.searchUsers;
	if (!method) throw new Error('the node has no user search');
	const context: ILoadOptionsFunctions = await helpersFor(
		emu,
		credentials[authentication],
		authentication,
	);
	return await method.call(context, filter, token);
}

describe.each(['application', 'oAuth2'] as const)("the user picker's page token (%s)", (auth) => {
	it('continues a search, and a listing, page by page with the token Graph gave', async () => {
		// "User 1" matches User 1, User 10-19 and User 100-199: three pages of 50.
		const first = await search(auth, 'User 1');
		expect(first.results).toHaveLength(50);
		const second = await search(auth, 'User 1', first.paginationToken);
		expect(second.results).toHaveLength(50);
		expect(second.results.every((result) => result.name.includes('User 1'))).toBe(true);
		expect(new Set([...first.results, ...second.results].map((result) => result.value)).size).toBe(
			100,
		);
		const all = await search(auth);
		const next = await search(auth, undefined, all.paginationToken);
		expect(next.results[0].value).not.toBe(all.results[0].value);
	});

	it.each([
		[
			'another collection on the Graph host',
			(url: string) => `${url}/v1.0/groups?$select=id,displayName`,
		],
		['a path instead of a link', () => '/groups?$select=id,displayName'],
		[
			'the users listing with options of its own',
			(url: string) =>
				`${url}/v1.0/users?$orderby=displayName&$select=id,displayName,mobilePhone,jobTitle&$top=50&$skiptoken=x`,
		],
		[
			'the users listing with a filter added',
			(url: string) =>
				`${url}/v1.0/users?$orderby=displayName&$select=id,displayName,userPrincipalName,mail&$top=50&$filter=accountEnabled eq false&$skiptoken=x`,
		],
		['a user by id', (url: string) => `${url}/v1.0/users/${encodeURIComponent('x')}/memberOf`],
		['the beta API', (url: string) => `${url}/beta/users?$orderby=displayName&$skiptoken=x`],
	])('refuses %s, sending nothing', async (_name, token) => {
		await expect(search(auth, undefined, token(emu.url))).rejects.toThrow(
			"The user list's page token is not a next page of this search on the credential's Graph host; not followed",
		);
		expect(emu.log).toEqual([]);
	});

	it('refuses a link to another host, which never hears of the token', async () => {
		await expect(
			search(auth, undefined, `${elsewhere.url}/v1.0/users?$orderby=displayName&$skiptoken=x`),
		).rejects.toThrow('not a next page of this search');
		expect(elsewhere.received).toEqual([]);
	});

	it("refuses one search's next page for another search", async () => {
		const first = await search(auth, 'User 1');
		emu.clearLog();
		await expect(search(auth, 'User 2', first.paginationToken)).rejects.toThrow(
			'not a next page of this search',
		);
		await expect(search(auth, undefined, first.paginationToken)).rejects.toThrow(
			'not a next page of this search',
		);
		expect(emu.log).toEqual([]);
	});
});
