/**
 * The packed tarball in a real n8n from npm, driven through n8n's CLI as an admin would: installed with npm into a
 * fresh user folder's `.n8n/nodes`, credentials (application secret and delegated OAuth2) pointing at the Graph
 * emulator imported with `n8n import:credentials`, workflows with `n8n import:workflow`, each run with
 * `n8n execute --id --rawOutput`; assertions on the run JSON n8n prints and on the emulator's request log.
 * Both n8n lines (2.x and 1.123.x) run on the Node 24 from the e2e cache.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { GraphEmulator } from '../emulator';
import {
	appSecretData,
	delegatedData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import { startRecordingServer, type RecordingServer } from '../shared/recordingServer';
import { overlappingAsks } from '../shared/overlappingAsks';
import { n8nLineCases, removeUserFolder, type N8nLine } from './lib/n8n';
import { N8nCliSession } from './fixtures/n8nSession';
import {
	APP_CREDENTIAL_TYPE,
	CREDENTIAL_IDS,
	graphCredentialRecord,
	OAUTH2_CREDENTIAL_TYPE,
	PRESENCE_TYPE,
	type N8nWorkflow,
} from './fixtures/n8nJson';
import {
	nodeOutput,
	pairedItems,
	PRESENCE_NODE,
	presenceWorkflow,
	type RunItem,
} from './fixtures/workflows';

const WORKFLOW_IDS = {
	getMe: 'msgpWfGetMe00001',
	get: 'msgpWfGetUser001',
	getMany: 'msgpWfGetMany001',
	continueOnFail: 'msgpWfBadInput01',
	throttled: 'msgpWfThrottle01',
	redirectApp: 'msgpWfRedirApp01',
	redirectDelegated: 'msgpWfRedirDel01',
	byMail: 'msgpWfByMailDet1',
} as const;

describe.each(n8nLineCases())(
	'%s: the packed tarball in a real n8n, driven by its CLI',
	(_label, key, line: N8nLine) => {
		let session: N8nCliSession;
		let userFolder: string;
		let emu: GraphEmulator;
		let app: TestApp;
		/** Another host on another port: where a redirect from "Graph" points (see the redirect test). */
		let elsewhere: RecordingServer;
		let lineStarted = 0;

		/** `n8n execute --id --rawOutput`: the complete successful run, and the Presence node's items in it. */
		async function execute(workflowId: string): Promise<{ run: unknown; output: RunItem[] }> {
			const run = await session.execute(workflowId);
			return { run, output: nodeOutput(run, PRESENCE_NODE) };
		}

		// Get Many: 2,000 ids over 300 items, many ids asked for by two or three items in different letter case.
		let askers = new Map<string, Set<number>>();
		let manyIds: string[] = [];
		let badInput: { good: string[]; items: Array<Record<string, unknown>> };
		let throttledIds: string[] = [];
		let me: { id: string; availability: string };
		let getUsers: Array<{ id: string; userPrincipalName: string }>;
		let redirected: { id: string };
		/** Named by e-mail address (mail ≠ UPN), two by UPN, one by id; plus an address nobody has. */
		let byMail: Array<{ id: string; displayName: string; userPrincipalName: string; mail: string }>;

		function workflows(): N8nWorkflow[] {
			const users = emu.users;
			manyIds = users.slice(0, 2000).map((user) => user.id);
			const many = overlappingAsks(manyIds);
			askers = many.askers;
			const good = users.slice(2100, 2104).map((user) => user.id);
			badInput = {
				good: [good[0], good[2], good[3]],
				items: [
					{ ids: good[0] },
					{ ids: `${good[1]}, 1234-not-a-guid` },
					{ ids: [good[2], good[3]] },
				],
			};
			throttledIds = users.slice(0, 6500).map((user) => user.id);
			getUsers = [users[2200], users[2201]];
			redirected = users[2300];
			const redirectWorkflow = (id: string, authentication: 'application' | 'oAuth2') =>
				presenceWorkflow({
					id,
					name: `Presence: Get User redirected elsewhere (${authentication})`,
					items: [{ n: 1 }],
					authentication,
					parameters: { operation: 'get', userId: redirected.id },
					continueOnFail: true,
				});
			byMail = users.slice(3000, 3060).filter((user) => user.mail !== user.userPrincipalName);
			return [
				redirectWorkflow(WORKFLOW_IDS.redirectApp, 'application'),
				redirectWorkflow(WORKFLOW_IDS.redirectDelegated, 'oAuth2'),
				presenceWorkflow({
					id: WORKFLOW_IDS.getMe,
					name: 'Presence: Get Me',
					items: [{ n: 1 }],
					authentication: 'oAuth2',
					parameters: { operation: 'getMe' },
				}),
				presenceWorkflow({
					id: WORKFLOW_IDS.get,
					name: 'Presence: Get User by GUID and by UPN',
					items: [{ u: getUsers[0].id }, { u: getUsers[1].userPrincipalName.toUpperCase() }],
					authentication: 'application',
					parameters: { operation: 'get', userId: '={{ $json.u }}' },
				}),
				presenceWorkflow({
					id: WORKFLOW_IDS.getMany,
					name: 'Presence: Get Many, 2,000 ids over 300 items',
					items: many.items,
					authentication: 'application',
					parameters: { operation: 'getMany', userIds: '={{ $json.ids }}' },
				}),
				presenceWorkflow({
					id: WORKFLOW_IDS.continueOnFail,
					name: 'Presence: Get Many, one bad id, Continue On Fail',
					items: badInput.items,
					authentication: 'application',
					parameters: { operation: 'getMany', userIds: '={{ $json.ids }}' },
					continueOnFail: true,
				}),
				presenceWorkflow({
					id: WORKFLOW_IDS.throttled,
					name: 'Presence: Get Many under hard throttling',
					items: [{ ids: throttledIds }],
					authentication: 'application',
					parameters: {
						operation: 'getMany',
						userIds: '={{ $json.ids }}',
						options: { maxRetries: 10 },
					},
				}),
				presenceWorkflow({
					id: WORKFLOW_IDS.byMail,
					name: 'Presence: Get Many by e-mail address, with user details',
					items: [
						{ ids: byMail.slice(0, 40).map((user) => user.mail) },
						{
							ids: [
								byMail[40].userPrincipalName,
								byMail[41].userPrincipalName,
								byMail[42].id,
								'nobody@contoso.example',
							],
						},
					],
					authentication: 'application',
					parameters: {
						operation: 'getMany',
						userIds: '={{ $json.ids }}',
						options: { simplify: true, includeUserDetails: true },
					},
				}),
			];
		}

		beforeAll(async () => {
			lineStarted = Date.now();
			session = await N8nCliSession.open(line, `n8n-e2e-cli-${key}-`);
			userFolder = session.userFolder;

			emu = await GraphEmulator.start({ seed: 29 });
			emu.addUsers(7000);
			app = await registerApp(emu, `cccccccc-0000-4000-8000-00000000000${key === 'v2' ? 2 : 1}`);
			const meUser = emu.getUser(emu.meUserId ?? '')!;
			me = { id: meUser.id, availability: meUser.presence.availability };
			const delegated = await delegatedData(emu, app);

			// Everything imported with one command each, as an admin moving a setup over would. The credentials file holds
			// plain secrets (n8n encrypts them on import), so it is removed right after.
			const imported = await session.importFile('credentials', [
				graphCredentialRecord('app', appSecretData(emu, app)),
				graphCredentialRecord('delegated', delegated),
			]);
			expect(imported.stdout).toContain('Successfully imported 2 credentials');
			const importedWorkflows = await session.importFile('workflow', workflows());
			expect(importedWorkflows.stdout).toMatch(/Successfully imported 8 workflows/);
			elsewhere = await startRecordingServer(() => ({
				id: redirected.id,
				availability: 'Available',
				activity: 'Available',
			}));
			session.timings.push(
				`imports done after ${((Date.now() - lineStarted) / 1000).toFixed(1)} s`,
			);
		}, 900_000);

		beforeEach(() => {
			emu.clearLog();
			emu.redirects.length = 0;
			emu.throttle = { limit: 1500, windowMs: 30_000 };
			emu.retryAfterFormat = 'seconds';
		});

		afterAll(async () => {
			await elsewhere?.close();
			await emu?.stop();
			if (userFolder) removeUserFolder(userFolder);
			if (session)
				process.stderr.write(session.summary(`${line.label} ${line.version}`, lineStarted));
		});

		it('loads our node and both credential types from the tarball in .n8n/nodes', async () => {
			const nodesFile = join(userFolder, 'nodes-export.json');
			const exported = await session.cli(['export:nodes', `--output=${nodesFile}`]);
			expect(exported.stdout).toContain('Successfully exported');
			const nodes = JSON.parse(readFileSync(nodesFile, 'utf8')) as Array<{
				name: string;
				version: number | number[];
				credentials?: Array<{ name: string }>;
			}>;
			const ours = nodes.filter((node) => node.name === PRESENCE_TYPE);
			expect(ours).toHaveLength(1);
			expect(ours[0].credentials?.map((credential) => credential.name).sort()).toEqual([
				APP_CREDENTIAL_TYPE,
				OAUTH2_CREDENTIAL_TYPE,
			]);

			// Both credentials were imported (and encrypted) by n8n, and the workflows reference them.
			const credentialsFile = join(userFolder, 'credentials-export.json');
			await session.cli(['export:credentials', '--all', `--output=${credentialsFile}`]);
			const stored = JSON.parse(readFileSync(credentialsFile, 'utf8')) as Array<{
				id: string;
				type: string;
				data: unknown;
			}>;
			expect(stored.map((credential) => [credential.id, credential.type]).sort()).toEqual(
				[
					[CREDENTIAL_IDS.app, APP_CREDENTIAL_TYPE],
					[CREDENTIAL_IDS.delegated, OAUTH2_CREDENTIAL_TYPE],
				].sort(),
			);
			// Stored encrypted, not as the plain object we imported.
			for (const credential of stored) expect(typeof credential.data).toBe('string');
			// (That n8n knows both credential *types* is shown by the runs below: resolving an unknown type fails the run.)
		});

		it("Get Me with the delegated OAuth2 credential reads the signed-in user's presence", async () => {
			const { output } = await execute(WORKFLOW_IDS.getMe);
			expect(output).toHaveLength(1);
			expect(output[0].json).toMatchObject({ id: me.id, availability: me.availability });
			expect(pairedItems(output[0].pairedItem)).toEqual([0]);
			const calls = emu.requests('/me/presence');
			expect(calls.map((call) => [call.status, call.tokenKind])).toEqual([[200, 'delegated']]);
		});

		it('Get User by GUID and by UPN: one presence per item, each paired to its item', async () => {
			const { output } = await execute(WORKFLOW_IDS.get);
			expect(
				output.map((item) => [item.json.id, item.json.availability, pairedItems(item.pairedItem)]),
			).toEqual([
				[getUsers[0].id, emu.getUser(getUsers[0].id)!.presence.availability, [0]],
				[getUsers[1].id, emu.getUser(getUsers[1].id)!.presence.availability, [1]],
			]);
			const presenceCalls = emu.requests('/presence').filter((entry) => !entry.batchSubRequest);
			expect(presenceCalls.every((call) => call.tokenKind === 'app' && call.status === 200)).toBe(
				true,
			);
			expect(presenceCalls).toHaveLength(2);
			// The UPN was resolved to its object id through one $batch request.
			expect(emu.requests('/$batch').filter((entry) => !entry.batchSubRequest)).toHaveLength(1);
		});

		it('Get Many: 2,000 ids over 300 items with duplicates in other case → 4 requests of ≤ 650, one item per id, every asker paired', async () => {
			expect(askers.size).toBe(2000);
			expect([...askers.values()].some((set) => set.size > 1)).toBe(true);
			const { output } = await execute(WORKFLOW_IDS.getMany);

			const calls = emu.requests('/communications/getPresencesByUserId');
			expect(calls).toHaveLength(4);
			for (const call of calls) {
				expect(call.status).toBe(200);
				expect((call.body as { ids: string[] }).ids.length).toBeLessThanOrEqual(650);
			}
			const sent = calls.flatMap((call) => (call.body as { ids: string[] }).ids);
			expect(sent).toHaveLength(2000);
			expect(new Set(sent.map((id) => id.toLowerCase())).size).toBe(2000);

			expect(output).toHaveLength(2000);
			const seen = new Set<string>();
			for (const item of output) {
				const id = String(item.json.id);
				expect(seen.has(id)).toBe(false);
				seen.add(id);
				expect(item.json.availability).toBe(emu.getUser(id)?.presence.availability);
				expect(pairedItems(item.pairedItem)).toEqual(
					[...askers.get(id.toLowerCase())!].sort((a, b) => a - b),
				);
			}
			expect(new Set(manyIds)).toEqual(seen);
		});

		it('Continue On Fail: one bad id in one item → one error item paired to it, the other items get their presences', async () => {
			const { output } = await execute(WORKFLOW_IDS.continueOnFail);
			const errors = output.filter((item) => item.json.error !== undefined);
			expect(errors).toHaveLength(1);
			expect(pairedItems(errors[0].pairedItem)).toEqual([1]);
			const message = JSON.stringify(errors[0].json.error);
			expect(message).toContain('Item 1');
			expect(message).toContain('1234-not-a-guid');
			const presences = output.filter((item) => item.json.error === undefined);
			expect(presences.map((item) => item.json.id)).toEqual(badInput.good);
			expect(presences.map((item) => pairedItems(item.pairedItem))).toEqual([[0], [2], [2]]);
			for (const item of presences)
				expect(item.json.availability).toBe(
					emu.getUser(String(item.json.id))?.presence.availability,
				);
			// The bad input was refused before anything was sent: one request, for the good ids only.
			const calls = emu.requests('/communications/getPresencesByUserId');
			expect(calls).toHaveLength(1);
			expect((calls[0].body as { ids: string[] }).ids).toEqual(badInput.good);
		});

		it('hard throttling (3 requests / 1.5 s, Retry-After in seconds and as a date): completes with every id after 429s', async () => {
			emu.throttle = { limit: 3, windowMs: 1500 };
			emu.retryAfterFormat = 'alternate';
			const { output } = await execute(WORKFLOW_IDS.throttled);
			const calls = emu.requests('/communications/getPresencesByUserId');
			const throttled = calls.filter((call) => call.status === 429);
			expect(throttled.length).toBeGreaterThan(0);
			expect(throttled.every((call) => call.throttled)).toBe(true);
			expect(calls.filter((call) => call.status === 200)).toHaveLength(10);
			expect(output).toHaveLength(6500);
			expect(output.map((item) => String(item.json.id)).sort()).toEqual([...throttledIds].sort());
			expect(
				output.every(
					(item) => typeof item.json.availability === 'string' && item.json.error === undefined,
				),
			).toBe(true);
		});

		it.each([
			['application', WORKFLOW_IDS.redirectApp],
			['delegated OAuth2', WORKFLOW_IDS.redirectDelegated],
		])(
			'a redirect from Graph to another host (%s credential): not followed, the bearer token goes nowhere, a clear error',
			async (credential, workflowId) => {
				const path = `/users/${redirected.id}/presence`;
				emu.redirects.push({ path, location: `${elsewhere.url}/v1.0${path}`, status: 302 });
				elsewhere.received.length = 0;
				const { output } = await execute(workflowId);
				// n8n's helper would re-send Authorization there if it followed; it must not even connect.
				expect(elsewhere.received).toEqual([]);
				expect(output).toHaveLength(1);
				// n8n 1.x's OAuth2 path drops the answer's headers (its NodeApiError keeps no cause), so the node
				// knows the status but not where the redirect pointed.
				const target = key === 'v1' && credential !== 'application' ? '' : ` to ${elsewhere.url}`;
				expect(JSON.stringify(output[0].json)).toContain(
					`Microsoft Graph answered 302 (a redirect${target}) to GET ${path}; not followed, so the credential's token goes to its Graph host only`,
				);
				expect(pairedItems(output[0].pairedItem)).toEqual([0]);
				expect(emu.requests(path).map((entry) => entry.status)).toEqual([302]);
			},
		);
		it('Get Many by e-mail address where mail differs from the UPN, with user details: all found and named', async () => {
			const { output } = await execute(WORKFLOW_IDS.byMail);
			const asked = byMail.slice(0, 43);
			expect(output).toHaveLength(asked.length + 1);
			const byId = new Map(output.map((item) => [String(item.json.id), item]));
			for (const [index, user] of asked.entries()) {
				expect(byId.get(user.id)?.json).toMatchObject({
					id: user.id,
					availability: emu.getUser(user.id)?.presence.availability,
					displayName: user.displayName,
					userPrincipalName: user.userPrincipalName,
					mail: user.mail,
				});
				expect(pairedItems(byId.get(user.id)?.pairedItem)).toEqual([index < 40 ? 0 : 1]);
			}
			expect(byId.get('nobody@contoso.example')?.json).toMatchObject({ notFound: true });
			// Names resolved by filters (UPN, then mail, then alias), never /users/{mail}; the names came with them,
			// and the one id took one filter more.
			const subRequests = emu.log.filter((entry) => entry.batchSubRequest === true);
			expect(
				subRequests.every((entry) => entry.path === '/v1.0/users' && entry.status === 200),
			).toBe(true);
			expect(subRequests.map((entry) => entry.query.$filter.split(' ')[0])).toEqual([
				'userPrincipalName',
				'userPrincipalName',
				'userPrincipalName',
				'mail',
				'mail',
				'mail',
				'proxyAddresses/any(p:p',
				'id',
			]);
		});

		it('prints no secret: no client secret and no token the emulator issued, in any output or log of any command', () => {
			const secrets = secretsOf(emu, app);
			// The client secret, and at least the delegated access and refresh tokens plus one app token per run.
			expect(emu.tokensIssued.length).toBeGreaterThanOrEqual(3);
			expect(session.transcripts.length).toBeGreaterThan(10);
			expect(findSecrets(session.transcripts.join('\n'), secrets)).toEqual([]);
			// Nor in what n8n stored: credentials encrypted, and the saved executions (their items and errors) clean.
			const n8nDir = join(userFolder, '.n8n');
			const databases = readdirSync(n8nDir).filter((name) => name.startsWith('database.sqlite'));
			expect(databases).toContain('database.sqlite');
			for (const name of databases)
				expect(findSecrets(readFileSync(join(n8nDir, name), 'latin1'), secrets)).toEqual([]);
		});
	},
);
