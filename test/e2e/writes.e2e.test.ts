/**
 * Presence writes in a real n8n from npm (the packed tarball in `.n8n/nodes`), read back in the same run:
 *   Manual Trigger → Microsoft Graph Presence (a write, application credential, the user by UPN)
 *                  → Microsoft Graph Presence (Get Many of the same user, simplified)
 * imported and run with `n8n execute --id --rawOutput`. Checked: the write's result item, the exact request body
 * Graph (the emulator) received, what the emulator now holds, and that the read-back in the same run shows it.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

import { GraphEmulator, type LogEntry } from '../emulator';
import {
	appSecretData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import { sharedBehaviourLineCases, removeUserFolder, type N8nLine } from './lib/n8n';
import { N8nCliSession } from './fixtures/n8nSession';
import { READ_BACK_NODE, WRITE_NODE, writeReadBackWorkflow } from './fixtures/triggerWorkflows';
import { graphCredentialRecord, PRESENCE_TYPE } from './fixtures/n8nJson';
import { nodeOutput, pairedItems } from './fixtures/workflows';

const WORKFLOW_IDS = {
	setPresence: 'msgpWfSetPres001',
	setStatusMessage: 'msgpWfSetStatus1',
} as const;
const STATUS_MESSAGE = 'Workshop in room 4.12 — back at 3 pm';
/** Without an offset: meant in the workflow's time zone (Settings → Timezone), which the workflow sets. */
const STATUS_EXPIRES_AT = '2030-01-15T17:00:00';
const WORKFLOW_TIMEZONE = 'Europe/Berlin';

// POST requests through n8n's HTTP helper run on both lines in cli.e2e (Get Many's getPresencesByUserId);
// the write operations here on 2.x only unless N8N_E2E_ALL_LINES=1 (README, Development).
describe.each(sharedBehaviourLineCases())(
	'%s: presence writes read back in the same run',
	(_label, key, line: N8nLine) => {
		let session: N8nCliSession;
		let userFolder: string;
		let emu: GraphEmulator;
		let app: TestApp;
		let started = 0;
		let presenceUser: { id: string; upn: string };
		let statusUser: { id: string; upn: string };

		const posts = (action: string): LogEntry[] =>
			emu.requests(action).filter((entry) => entry.method === 'POST' && !entry.batchSubRequest);

		beforeAll(async () => {
			started = Date.now();
			session = await N8nCliSession.open(line, `n8n-e2e-writes-${key}-`);
			userFolder = session.userFolder;

			emu = await GraphEmulator.start({ seed: key === 'v2' ? 51 : 53 });
			emu.addUsers(30);
			app = await registerApp(emu, `ffffffff-0000-4000-8000-00000000000${key === 'v2' ? 2 : 1}`);
			// Someone not already Busy/InACall, so the read-back can only show it because the write took effect.
			const candidate = emu.users.find(
				(user) => emu.effectivePresence(user.id).availability !== 'Busy',
			)!;
			presenceUser = { id: candidate.id, upn: candidate.userPrincipalName };
			const other = emu.users.find(
				(user) => user.id !== candidate.id && emu.effectivePresence(user.id).statusMessage == null,
			)!;
			statusUser = { id: other.id, upn: other.userPrincipalName };

			await session.importFile('credentials', [
				graphCredentialRecord('app', appSecretData(emu, app)),
			]);
			await session.importFile('workflow', [
				writeReadBackWorkflow({
					id: WORKFLOW_IDS.setPresence,
					name: 'Set Presence Busy — In a Call, read back',
					write: {
						operation: 'setPresence',
						userIds: presenceUser.upn,
						presence: 'Busy/InACall',
						expirationDuration: 'PT1H',
					},
					readUserIds: presenceUser.upn,
				}),
				writeReadBackWorkflow({
					id: WORKFLOW_IDS.setStatusMessage,
					name: 'Set Status Message, read back',
					write: {
						operation: 'setStatusMessage',
						userIds: statusUser.upn,
						statusMessage: STATUS_MESSAGE,
						expiresAt: STATUS_EXPIRES_AT,
					},
					readUserIds: statusUser.upn,
					timezone: WORKFLOW_TIMEZONE,
				}),
			]);
		}, 600_000);

		beforeEach(() => emu.clearLog());

		afterAll(async () => {
			await emu?.stop();
			if (userFolder) removeUserFolder(userFolder);
			process.stderr.write(
				session?.summary(`${line.label} ${line.version} (writes)`, started) ?? '',
			);
		});

		it("Set Presence Busy/InACall for PT1H by UPN: the result item, Graph's exact body, and the read-back shows Busy/InACall", async () => {
			expect(emu.effectivePresence(presenceUser.id).availability).not.toBe('Busy');
			const run = await session.execute(WORKFLOW_IDS.setPresence);

			const set = {
				sessionId: app.clientId,
				availability: 'Busy',
				activity: 'InACall',
				expirationDuration: 'PT1H',
			};
			const written = nodeOutput(run, WRITE_NODE);
			expect(written.map((item) => [item.json, pairedItems(item.pairedItem)])).toEqual([
				[{ id: presenceUser.id, operation: 'setPresence', ...set }, [0]],
			]);

			const calls = posts('/presence/setPresence');
			expect(calls.map((call) => [call.path, call.body, call.status, call.tokenKind])).toEqual([
				[`/v1.0/users/${presenceUser.id}/presence/setPresence`, set, 200, 'app'],
			]);
			expect(emu.presenceSessions(presenceUser.id)).toEqual([
				expect.objectContaining({
					sessionId: app.clientId,
					availability: 'Busy',
					activity: 'InACall',
					expirationDuration: 'PT1H',
				}),
			]);
			expect(emu.effectivePresence(presenceUser.id)).toMatchObject({
				availability: 'Busy',
				activity: 'InACall',
			});

			// The read-back came after the write, in the same run, and shows it.
			const reads = posts('/communications/getPresencesByUserId');
			expect(reads).toHaveLength(1);
			expect(reads[0].time).toBeGreaterThanOrEqual(calls[0].time);
			expect((reads[0].body as { ids: string[] }).ids).toEqual([presenceUser.id]);
			const readBack = nodeOutput(run, READ_BACK_NODE);
			expect(readBack).toHaveLength(1);
			expect(readBack[0].json).toMatchObject({
				id: presenceUser.id,
				availability: 'Busy',
				activity: 'InACall',
			});
		});

		it("Set Status Message with an expiry in the workflow's time zone: Graph's exact body, and the read-back shows the message", async () => {
			const run = await session.execute(WORKFLOW_IDS.setStatusMessage);

			const statusMessage = {
				message: { content: STATUS_MESSAGE, contentType: 'text' },
				expiryDateTime: { dateTime: STATUS_EXPIRES_AT, timeZone: WORKFLOW_TIMEZONE },
			};
			const written = nodeOutput(run, WRITE_NODE);
			expect(written.map((item) => [item.json, pairedItems(item.pairedItem)])).toEqual([
				[{ id: statusUser.id, operation: 'setStatusMessage', statusMessage }, [0]],
			]);

			const calls = posts('/presence/setStatusMessage');
			expect(calls.map((call) => [call.path, call.body, call.status])).toEqual([
				[`/v1.0/users/${statusUser.id}/presence/setStatusMessage`, { statusMessage }, 200],
			]);
			expect(emu.effectivePresence(statusUser.id).statusMessage?.message?.content).toBe(
				STATUS_MESSAGE,
			);

			const readBack = nodeOutput(run, READ_BACK_NODE);
			expect(readBack.map((item) => [item.json.id, item.json.statusMessage])).toEqual([
				[statusUser.id, STATUS_MESSAGE],
			]);
		});

		it('the Operation field n8n loaded offers the write operations (otherwise the editor cannot choose them)', async () => {
			const file = join(userFolder, 'nodes-export.json');
			const exported = await session.cli(['export:nodes', `--output=${file}`]);
			expect(exported.stdout + exported.stderr).toContain('Successfully exported');
			const nodes = JSON.parse(readFileSync(file, 'utf8')) as Array<{
				name: string;
				properties: Array<{ name: string; options?: Array<{ value: unknown }> }>;
			}>;
			const node = nodes.find((entry) => entry.name === PRESENCE_TYPE)!;
			const operation = node.properties.find((property) => property.name === 'operation')!;
			expect(operation.options?.map((option) => option.value)).toEqual(
				expect.arrayContaining([
					'setPresence',
					'clearPresence',
					'setPreferredPresence',
					'clearPreferredPresence',
					'setStatusMessage',
					'clearStatusMessage',
					'setWorkLocation',
					'clearWorkLocation',
				]),
			);
		});

		it("prints and stores no secret in any command's output", () => {
			expect(findSecrets(session.transcripts.join('\n'), secretsOf(emu, app))).toEqual([]);
		});
	},
);
