/**
 * The polling Presence Trigger in an activated workflow of a real n8n from npm (the packed tarball in the user
 * folder's `.n8n/nodes`), as an admin runs it: credentials (the application Graph credential pointing at the Graph
 * emulator, and n8n's SMTP credential pointing at a local mail sink) and the workflow
 *   Microsoft Graph Presence Trigger (every minute) → Send Email (n8n's own node)
 * imported with n8n's CLI, activated (2.x `publish:workflow`, 1.x `update:workflow --active=true`), then `n8n start`.
 *
 * What a user relies on, checked against the emulator's request log and the mails that arrive:
 * - the first poll after activation reads everyone's presence and records it silently (no mail, no execution);
 * - a presence changed in Graph reaches the next poll (≤ 1 minute) and sends exactly one mail naming the user, the
 *   new availability and the previous one; the poll after that sends nothing more;
 * - names given as user principal names are looked up once, not at every poll (the trigger's state survives
 *   between polls).
 * Polls can't be made shorter than a minute in n8n, so each line takes about three minutes of waiting.
 */
import { GraphEmulator, type LogEntry } from '../emulator';
import {
	appSecretData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import {
	sharedBehaviourLineCases,
	removeUserFolder,
	setupOwner,
	startN8n,
	type N8nLine,
	type RunningN8n,
} from './lib/n8n';
import {
	explainer,
	finishedExecutions,
	freePort,
	listExecutions,
	N8nCliSession,
	sleep,
	waitFor,
	type ExecutionSummary,
} from './fixtures/n8nSession';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './fixtures/smtpSink';
import { presenceMailWorkflow, smtpCredentialRecord } from './fixtures/triggerWorkflows';
import { graphCredentialRecord } from './fixtures/n8nJson';

const WORKFLOW_ID = 'msgpWfTrigMail01';
const PRESENCES = '/communications/getPresencesByUserId';
/** A poll every minute at a random second, plus the execution and the SMTP round trip. */
const POLL_WAIT_MS = 90_000;
const OWNER = { email: 'owner@example.test', password: 'E2e-Trigger-Passw0rd' };
const MAIL_FROM = 'n8n@example.test';
const MAIL_TO = 'presence-desk@example.test';

// The polling trigger in an active workflow runs on both lines in templates.e2e (its Slack workflow);
// here on 2.x only unless N8N_E2E_ALL_LINES=1 (README, Development).
describe.each(sharedBehaviourLineCases())(
	'%s: Presence Trigger in an active workflow → Send Email',
	(_label, key, line: N8nLine) => {
		let session: N8nCliSession;
		let userFolder: string;
		let emu: GraphEmulator;
		let app: TestApp;
		let smtp: SmtpSink;
		let n8n: RunningN8n | undefined;
		let cookie: string;
		let started = 0;
		/** When `n8n start` was spawned: log times are shown relative to it. */
		let n8nStarted = 0;
		let watched: Array<{ id: string; upn: string; by: 'id' | 'upn' }>;
		let changed: {
			id: string;
			upn: string;
			before: { availability: string; activity: string };
			after: { availability: string; activity: string };
			at: number;
		};
		let mail: ReceivedMail;

		const polls = (): LogEntry[] =>
			emu.requests(PRESENCES).filter((entry) => entry.method === 'POST' && !entry.batchSubRequest);
		const executions = async (): Promise<ExecutionSummary[]> =>
			await listExecutions(n8n!.url, cookie, WORKFLOW_ID);

		/** What a failure needs to be understood: every poll the emulator saw, the executions, and n8n's log lines about the trigger. */
		async function diagnostics(): Promise<string> {
			const seconds = (time: number) => `+${((time - n8nStarted) / 1000).toFixed(1)} s`;
			const pollLines = polls().map((entry) => {
				const ids = (entry.body as { ids?: string[] } | undefined)?.ids ?? [];
				return `  poll ${seconds(entry.time)}: ${entry.status}, ${ids.length} ids`;
			});
			const lookups = emu
				.requests('/$batch')
				.filter((entry) => !entry.batchSubRequest)
				.map((entry) => `  $batch ${seconds(entry.time)}: ${entry.status}`);
			let runs = '(could not list executions)';
			try {
				runs = JSON.stringify(await executions());
			} catch (error) {
				runs = String(error);
			}
			const logLines = (n8n?.output() ?? '')
				.split('\n')
				.filter((text) => /presence|poll|activat|error|warn/i.test(text))
				.slice(-40);
			return [
				`presence changed ${changed ? seconds(changed.at) : '(not yet)'}`,
				'emulator polls:',
				...pollLines,
				'name lookups:',
				...lookups,
				`mails: ${JSON.stringify(smtp.mails.map((m) => ({ at: seconds(m.receivedAt), subject: m.subject })))}`,
				`executions: ${runs}`,
				'n8n log (trigger-related lines):',
				...logLines,
			].join('\n');
		}

		const explain = explainer(diagnostics);

		beforeAll(async () => {
			started = Date.now();
			session = await N8nCliSession.open(line, `n8n-e2e-trigger-${key}-`);
			userFolder = session.userFolder;

			emu = await GraphEmulator.start({ seed: key === 'v2' ? 41 : 43 });
			emu.addUsers(20);
			app = await registerApp(emu, `eeeeeeee-0000-4000-8000-00000000000${key === 'v2' ? 2 : 1}`);
			smtp = await startSmtpSink();

			// Three people: two by object id, one by user principal name (in another letter case, as people type them).
			const [a, b, c] = emu.users.slice(3, 6);
			watched = [
				{ id: a.id, upn: a.userPrincipalName, by: 'id' },
				{ id: b.id, upn: b.userPrincipalName, by: 'upn' },
				{ id: c.id, upn: c.userPrincipalName, by: 'id' },
			];
			const userIds = watched
				.map((user) => (user.by === 'id' ? user.id : user.upn.toUpperCase()))
				.join(', ');

			await session.importFile('credentials', [
				graphCredentialRecord('app', appSecretData(emu, app)),
				smtpCredentialRecord(smtp.port),
			]);
			await session.importFile('workflow', [
				presenceMailWorkflow({
					id: WORKFLOW_ID,
					name: 'Presence changes → mail',
					userIds,
					from: MAIL_FROM,
					to: MAIL_TO,
				}),
			]);
			// 2.x activates what is published (`update:workflow --active` is deprecated there); 1.x has no publishing.
			if (key === 'v2') await session.cli(['publish:workflow', `--id=${WORKFLOW_ID}`]);
			else await session.cli(['update:workflow', `--id=${WORKFLOW_ID}`, '--active=true']);

			emu.clearLog();
			const port = await freePort();
			const brokerPort = await freePort();
			n8nStarted = Date.now();
			n8n = await startN8n(session.install, userFolder, port, {
				N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			});
			cookie = await setupOwner(n8n.url, OWNER);
			session.timings.push(
				`n8n start answering after ${((Date.now() - n8nStarted) / 1000).toFixed(1)} s`,
			);
		}, 600_000);

		afterAll(async () => {
			await n8n?.stop();
			await smtp?.stop();
			await emu?.stop();
			if (userFolder) removeUserFolder(userFolder);
			process.stderr.write(
				session?.summary(`${line.label} ${line.version} (trigger)`, started) ?? '',
			);
		});

		it('activation: the workflow is active, and the first poll reads every watched user and records a baseline silently', async () => {
			const workflow = await fetch(`${n8n!.url}/rest/workflows/${WORKFLOW_ID}`, {
				headers: { cookie },
			});
			expect(workflow.status).toBe(200);
			const data = ((await workflow.json()) as { data: { active: boolean } }).data;
			expect(data.active).toBe(true);

			const first = await explain(
				waitFor('the first poll (getPresencesByUserId)', () => polls()[0], POLL_WAIT_MS),
			);
			session.timings.push(
				`first poll +${((first.time - n8nStarted) / 1000).toFixed(1)} s after n8n start`,
			);
			expect(first.status).toBe(200);
			expect(first.tokenKind).toBe('app');
			expect(first.clientId).toBe(app.clientId);
			expect((first.body as { ids: string[] }).ids.map((id) => id.toLowerCase()).sort()).toEqual(
				watched.map((user) => user.id.toLowerCase()).sort(),
			);
			// The name was looked up (one $batch) before that poll.
			const lookups = emu.requests('/$batch').filter((entry) => !entry.batchSubRequest);
			expect(lookups.map((entry) => entry.status)).toEqual([200]);

			// Silent: give a mail the time an execution and an SMTP round trip take, then nothing may have arrived.
			await sleep(6_000);
			expect(smtp.mails).toEqual([]);
			expect(await executions()).toEqual([]);
		}, 150_000);

		it('a presence changed in Graph → one mail at the next poll, naming the user, the new and the previous availability', async () => {
			const user = watched.find((entry) => entry.by === 'upn')!;
			const before = emu.effectivePresence(user.id);
			const after =
				before.availability === 'Away'
					? { availability: 'DoNotDisturb', activity: 'Presenting' }
					: { availability: 'Away', activity: 'Away' };
			expect(smtp.mails).toEqual([]);
			emu.setPresence(user.id, after);
			changed = {
				id: user.id,
				upn: user.upn,
				before: { availability: before.availability, activity: before.activity },
				after,
				at: Date.now(),
			};

			const [received] = await explain(smtp.waitForMails(1, POLL_WAIT_MS));
			mail = received;
			const pollsAfterChange = polls().filter((entry) => entry.time >= changed.at);
			session.timings.push(
				`mail ${((mail.receivedAt - changed.at) / 1000).toFixed(1)} s after the change`,
			);
			// The mail came from a poll after the change, not from anything else.
			expect(pollsAfterChange.length).toBeGreaterThanOrEqual(1);
			expect(pollsAfterChange[0].time).toBeLessThanOrEqual(mail.receivedAt);

			expect(mail.from).toBe(MAIL_FROM);
			expect(mail.to).toEqual([MAIL_TO]);
			expect(mail.subject).toBe(`${user.id} is now ${after.availability}`);
			const text = mail.text.replace(/\s+/g, ' ').trim();
			expect(text).toContain(
				`${user.id} changed (availability, activity): now ${after.availability}/${after.activity}`,
			);
			expect(text).toContain(`was ${before.availability}/${before.activity}.`);
			expect(text).toContain('Event: changed');
			// No attribution footer (the option is off), nothing else in the mail.
			expect(text).not.toContain('sent automatically');

			const runs = await explain(finishedExecutions('the execution to be listed', executions));
			expect(runs.map((run) => [run.mode, run.status])).toEqual([['trigger', 'success']]);
		}, 180_000);

		it('exactly one mail for one change: the poll after it sends nothing, and the name was looked up only once', async () => {
			expect(mail).toBeDefined();
			const next = await explain(
				waitFor(
					'the poll after the mail',
					() => polls().find((entry) => entry.time > mail.receivedAt),
					POLL_WAIT_MS,
				),
			);
			expect(next.status).toBe(200);
			await sleep(6_000);
			expect(smtp.mails).toHaveLength(1);
			expect((await executions()).map((run) => [run.mode, run.status])).toEqual([
				['trigger', 'success'],
			]);

			// Every poll read the three users; the user principal name was resolved once, at the first poll only.
			const all = polls();
			expect(all.length).toBeGreaterThanOrEqual(3);
			for (const poll of all) expect((poll.body as { ids: string[] }).ids).toHaveLength(3);
			expect(emu.requests('/$batch').filter((entry) => !entry.batchSubRequest)).toHaveLength(1);
		}, 150_000);

		it("prints and stores no secret: not in n8n's log, not in the mail", () => {
			const secrets = secretsOf(emu, app);
			expect(emu.tokensIssued.length).toBeGreaterThanOrEqual(1);
			expect(
				findSecrets(
					[n8n?.output() ?? '', ...session.transcripts, ...smtp.mails.map((m) => m.raw)].join('\n'),
					secrets,
				),
			).toEqual([]);
		});
	},
);
