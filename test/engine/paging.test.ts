import { pages } from '../../nodes/shared/graph/paging';
import { GraphClient } from '../../nodes/shared/transport/graphClient';
import { GraphEmulator } from '../emulator';
import { runWorkflow, type HarnessCredential } from '../harness';
import { startRecordingServer, type RecordingServer } from '../shared/recordingServer';
import { helpersFor } from './loadOptions';
import {
	appSecretCredential,
	credentialTypes,
	nodeTypes,
	presenceWorkflow,
	registerApp,
} from './support';

/**
 * Following `@odata.nextLink` ends: only on the credential's Graph host, never back to a page already
 * read (Graph's paging has been seen to cycle, on transitiveMembers among others), and never beyond a
 * page cap. The emulator is taught to rewrite a listing's next links (NextLinkRewrite).
 */

let emu: GraphEmulator;
let credential: HarnessCredential;
let elsewhere: RecordingServer;
let group: { id: string };
const membersPath = () => `/groups/${group.id}/transitiveMembers/microsoft.graph.user`;

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 57 });
	emu.addUsers(2500);
	// Three pages of 999.
	group = emu.addGroup({
		displayName: 'Everyone',
		members: emu.users.slice(0, 2500).map((user) => user.id),
	});
	const app = await registerApp(emu, 'adadadad-0000-4000-8000-000000000001');
	credential = appSecretCredential(emu, app);
	elsewhere = await startRecordingServer();
});
afterAll(async () => {
	await elsewhere.close();
	await emu.stop();
});
beforeEach(() => {
	emu.clearLog();
	emu.nextLinkRewrite = undefined;
	elsewhere.received.length = 0;
});

const getManyOfGroup = () =>
	runWorkflow({
		workflow: presenceWorkflow({
			items: [{}],
			parameters: { operation: 'getMany', usersFrom: 'group', group: group.id },
			authentication: 'application',
			credentialId: 'app',
		}),
		nodeTypes,
		credentialTypes,
		credentials: { app: credential },
	});
const memberPages = () => emu.requests(membersPath()).map((entry) => entry.query.$skiptoken);

describe("following a listing's next links", () => {
	it('reads every page of a group as Graph sends them', async () => {
		const result = await getManyOfGroup();
		expect(result.error).toBeUndefined();
		expect(result.output('Presence')).toHaveLength(2500);
		expect(memberPages()).toHaveLength(3);
	});

	it('refuses a next link to another host, which never hears of the token', async () => {
		emu.nextLinkRewrite = {
			path: '/transitiveMembers',
			rewrite: (link) => link && link.replace(emu.url, elsewhere.url),
		};
		const result = await getManyOfGroup();
		expect(result.error?.message).toBe('Graph sent a next link to another host; not followed');
		expect(elsewhere.received).toEqual([]);
		expect(memberPages()).toHaveLength(1);
	});

	it('refuses a next link back to the first page, spelled differently', async () => {
		// The last page links back to the first, its options percent-encoded (`%24select`): the same page.
		emu.nextLinkRewrite = {
			path: '/transitiveMembers',
			rewrite: (link, request) => {
				if (link !== undefined) return link;
				const first = new URL(`${emu.url}/v1.0${request.path}`);
				first.searchParams.set('$select', 'id');
				first.searchParams.set('$top', '999');
				return first.toString();
			},
		};
		const result = await getManyOfGroup();
		expect(result.error?.message).toBe(
			`Graph sent a next link back to page 1 of ${membersPath()}, already read; not followed`,
		);
		expect(memberPages()).toHaveLength(3);
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(0);
	});

	it('refuses the same next link twice (the same $skiptoken again)', async () => {
		let second: string | undefined;
		emu.nextLinkRewrite = {
			path: '/transitiveMembers',
			rewrite: (link) => (second ??= link),
		};
		const result = await getManyOfGroup();
		expect(result.error?.message).toBe(
			`Graph sent a next link back to page 2 of ${membersPath()}, already read; not followed`,
		);
		expect(memberPages()).toHaveLength(2);
	});

	it('stops at the page cap when next links never end, each one new', async () => {
		let page = 0;
		emu.nextLinkRewrite = {
			path: '/transitiveMembers',
			rewrite: (_link, request) =>
				`${emu.url}/v1.0${request.path}?$select=id&$top=999&$skiptoken=${Buffer.from(`emu-skip:0`).toString('base64url')}&page=${++page}`,
		};
		// The cap (2,000 pages) is what no real listing here reaches; a smaller one shows it ends.
		const context = await helpersFor(emu, credential, 'application');
		const client = await GraphClient.create(context, 'application');
		const read: number[] = [];
		await expect(
			(async () => {
				for await (const entries of pages(client, `${membersPath()}?$select=id&$top=999`, {
					maxPages: 5,
				}))
					read.push(entries.length);
			})(),
		).rejects.toThrow(`${membersPath()} has more than 5 pages; not read further`);
		expect(read).toEqual([999, 999, 999, 999, 999]);
		expect(memberPages()).toHaveLength(5);
	});
});
