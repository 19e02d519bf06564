/**
 * The Instant Presence Trigger (Graph change notifications) in activated workflows of a real n8n from npm (the
 * packed tarball in the user folder's `.n8n/nodes`), as an admin runs it: the delegated OAuth2 credential (pointing
 * at the Graph emulator, tokens from its sign-in flow) and workflows
 *   Microsoft Graph Presence Instant Trigger → HTTP Request (POSTs each item to a recorder on 127.0.0.1)
 * imported with n8n's CLI, then `n8n start` with WEBHOOK_URL on loopback http, at debug log level.
 *
 * The emulator enforces what Microsoft documents: one presence subscription per signed-in user and app, at most
 * 650 users in it. What is checked, against the emulator, the recorder, n8n's REST API and n8n's log:
 * - activation of a workflow watching 1,300 users: one subscription for the first 650 at n8n's production webhook
 *   URL, validations answered with the token, trigger()'s minute schedule registered, n8n's log saying which users
 *   are instant and which are polled;
 * - a change of an instant user → a webhook run; of a polled user → a run started by the schedule; each once;
 * - a notification with a wrong or missing clientState is refused (401) and runs nothing;
 * - a second workflow on the same credential: Graph allows no second subscription, so it polls its users (its
 *   changes still arrive) and says so in n8n's log;
 * - the schedule, ticking in n8n: a subscription with 10 minutes left is renewed (PATCH), outlives its old expiry;
 * - n8n restarted while the subscription has 15 minutes left: the same subscription and clientState, renewed, and
 *   deliveries keep validating;
 * - the first workflow deactivated → its subscription deleted, webhook 404; the second takes the subscription over
 *   within a minute and its users are instant from then on.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';

import { GraphEmulator, type Delivery, type EmulatedSubscription } from '../emulator';
import {
	delegatedData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import {
	n8nLineCases,
	runsSharedBehaviour,
	removeUserFolder,
	setupOwner,
	startN8n,
	type N8nInstall,
	type N8nLine,
	type RunningN8n,
} from './lib/n8n';
import {
	INSTANT_WEBHOOK_PATH,
	instantWorkflow,
	startRecorder,
	type RecordedPost,
	type Recorder,
} from './fixtures/instantWorkflow';
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
import { graphCredentialRecord } from './fixtures/n8nJson';

const WORKFLOW_ID = 'msgpWfInstant001';
const WEBHOOK_ID = '6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5';
/** The second workflow on the same credential. */
const SECOND_ID = 'msgpWfInstant002';
const SECOND_WEBHOOK_ID = '7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const OWNER = { email: 'owner@example.test', password: 'E2e-Instant-Passw0rd' };
/** The node's schedule: every minute. */
const SCHEDULE_CRON = '0 * * * * *';
/** Activation runs after n8n's HTTP server is up; on a loaded machine it takes a while. */
const ACTIVATION_WAIT_MS = 120_000;
/** A schedule tick comes within a minute; reading and running the workflow take a little more. */
const TICK_WAIT_MS = 100_000;
const WATCHED = 1300;

describe.each(n8nLineCases())(
	'%s: Instant Trigger (Graph change notifications) in an active workflow',
	(_label, key, line: N8nLine) => {
		let install: N8nInstall;
		let session: N8nCliSession;
		let userFolder: string;
		let emu: GraphEmulator;
		let app: TestApp;
		let recorder: Recorder;
		let n8n: RunningN8n | undefined;
		/** Logs of n8n processes already stopped (the restart). */
		const pastLogs: string[] = [];
		let port = 0;
		let cookie = '';
		let webhookUrl = '';
		let started = 0;
		let n8nStarted = 0;
		let watched: string[] = [];
		/** The second workflow's users (on the same credential). */
		let others: string[] = [];
		let secondUrl = '';
		/** The subscription made at the first activation. */
		let first: EmulatedSubscription | undefined;

		const ours = (url = webhookUrl): EmulatedSubscription[] =>
			emu.subscriptions.filter((subscription) => subscription.notificationUrl === url);
		/** The first recorded run item about `id` after `since` posts. */
		const postAbout = (id: string, since: number): RecordedPost | undefined =>
			recorder.posts.slice(since).find((post) => (post.body as { id?: string }).id === id);
		const validations = (since = 0): Delivery[] =>
			emu.deliveries.filter(
				(delivery) =>
					delivery.kind === 'validation' &&
					delivery.url.startsWith(`${webhookUrl}?`) &&
					delivery.time >= since,
			);
		const executions = async (workflowId = WORKFLOW_ID): Promise<ExecutionSummary[]> =>
			await listExecutions(n8n!.url, cookie, workflowId);
		const allLogs = (): string => [...pastLogs, n8n?.output() ?? ''].join('\n');
		const seconds = (time: number) => `+${((time - n8nStarted) / 1000).toFixed(1)} s`;
		const flip = (id: string) => {
			const before = emu.effectivePresence(id);
			const after =
				before.availability === 'Available'
					? { availability: 'Busy', activity: 'InACall' }
					: { availability: 'Available', activity: 'Available' };
			emu.setPresence(id, after);
			return { before, after, at: Date.now() };
		};

		/** What a failure needs: the emulator's subscriptions and deliveries, the runs recorded, n8n's log lines about it. */
		async function diagnostics(): Promise<string> {
			let runs = '(could not list executions)';
			try {
				runs = JSON.stringify(await executions());
			} catch (error) {
				runs = String(error);
			}
			const logLines = (n8n?.output() ?? '')
				.split('\n')
				.filter((text) => /presence|webhook|activat|error|warn|cron|subscri/i.test(text))
				.slice(-60);
			return [
				`webhook URL ${webhookUrl}`,
				`webhook URL of the second workflow ${secondUrl}`,
				`subscriptions: ${JSON.stringify(emu.subscriptions.map((s) => ({ id: s.id, url: s.notificationUrl, users: s.userIds.length, exp: s.expirationDateTime })))}`,
				'deliveries:',
				...emu.deliveries.map(
					(d) =>
						`  ${seconds(d.time)} ${d.kind} ${d.status} ${d.durationMs} ms attempt ${d.attempt}${d.error ? ` (${d.error})` : ''}`,
				),
				'subscription requests:',
				...emu
					.requests('/subscriptions')
					.map((e) => `  ${seconds(e.time)} ${e.method} ${e.path} ${e.status}`),
				`recorded posts: ${JSON.stringify(recorder.posts.map((post) => [post.time, (post.body as { id?: string }).id]))}`,
				`executions: ${runs}`,
				'n8n log (related lines):',
				...logLines,
			].join('\n');
		}

		const explain = explainer(diagnostics);

		/** `n8n start` at debug level (so n8n's cron registrations show). */
		async function start(): Promise<void> {
			const brokerPort = await freePort();
			n8nStarted = Date.now();
			n8n = await startN8n(install, userFolder, port, {
				N8N_RUNNERS_BROKER_PORT: String(brokerPort),
				N8N_LOG_LEVEL: 'debug',
			});
			session.timings.push(
				`n8n start answering after ${((Date.now() - n8nStarted) / 1000).toFixed(1)} s`,
			);
		}

		/** Activates or deactivates a workflow through n8n's REST API, as the editor's toggle does. */
		async function setActive(workflowId: string, active: boolean): Promise<void> {
			const headers = { cookie, 'content-type': 'application/json' };
			let body = '{}';
			if (active) {
				const workflow = await fetch(`${n8n!.url}/rest/workflows/${workflowId}`, { headers });
				const { data } = (await workflow.json()) as { data: { versionId: string } };
				body = JSON.stringify({ versionId: data.versionId });
			}
			const response = await fetch(
				`${n8n!.url}/rest/workflows/${workflowId}/${active ? 'activate' : 'deactivate'}`,
				{ method: 'POST', headers, body },
			);
			const text = await response.text();
			if (response.status !== 200)
				throw new Error(`${active ? 'activate' : 'deactivate'}: ${response.status} ${text}`);
			expect((JSON.parse(text) as { data: { active: boolean } }).data.active).toBe(active);
		}

		/** Our node's log lines in n8n's output. */
		const nodeLog = (): string[] =>
			logLines(n8n!.output()).filter((text) =>
				text.includes('Microsoft Graph Presence Instant Trigger'),
			);

		/** n8n's log lines without colours. */
		const logLines = (log: string): string[] => log.replace(/\x1b\[[0-9;]*m/g, '').split('\n');

		/**
		 * Lines logged at warn or error level about activation, webhooks, this workflow or our node (n8n's "Issue on
		 * initial workflow activation", "Unable to initialize workflow", our node's own warnings).
		 */
		const activationProblems = (log: string): string[] =>
			logLines(log).filter((text) => {
				// The message only, not its metadata (stacks name the install path, which contains "presence").
				const message = text.split(' { "')[0];
				return (
					/^\S+\s+(warn|error)\s/i.test(message) &&
					/(activat|webhook|subscri|Presence|msgpWfInstant)/i.test(message)
				);
			});

		const cronRegistrations = (log: string): string[] =>
			logLines(log).filter((text) => /Registered cron/.test(text) && text.includes(SCHEDULE_CRON));

		/**
		 * n8n logged both halves of activating the node: its webhook (1.x "Added webhooks for workflow …", 2.x
		 * 'Added webhook "<node>" for workflow …', after create() returned) and its trigger() (the renewal cron). 1.x does
		 * this before printing "Editor is now accessible", 2.x (publication service) after it, trigger() first.
		 */
		const activationLogged = () =>
			waitFor(
				'n8n to log the webhook added and the cron registered',
				() =>
					/Added webhooks? .*for workflow/.test(n8n!.output()) &&
					cronRegistrations(n8n!.output()).length > 0
						? true
						: undefined,
				60_000,
			).then(() => sleep(1_000));

		beforeAll(async () => {
			started = Date.now();
			session = await N8nCliSession.open(line, `n8n-e2e-instant-${key}-`);
			({ install, userFolder } = session);

			emu = await GraphEmulator.start({ seed: key === 'v2' ? 61 : 63 });
			emu.addUsers(WATCHED + 20);
			app = await registerApp(emu, `ffffffff-0000-4000-8000-00000000000${key === 'v2' ? 2 : 1}`);
			recorder = await startRecorder();
			watched = emu.users.slice(2, 2 + WATCHED).map((user) => user.id);
			others = emu.users.slice(WATCHED + 5, WATCHED + 8).map((user) => user.id);

			port = await freePort();
			webhookUrl = `http://127.0.0.1:${port}/webhook/${WEBHOOK_ID}/${INSTANT_WEBHOOK_PATH}`;
			secondUrl = `http://127.0.0.1:${port}/webhook/${SECOND_WEBHOOK_ID}/${INSTANT_WEBHOOK_PATH}`;

			await session.importFile('credentials', [
				graphCredentialRecord('delegated', await delegatedData(emu, app)),
			]);
			await session.importFile('workflow', [
				instantWorkflow({
					id: WORKFLOW_ID,
					name: 'Presence changes, instantly',
					webhookId: WEBHOOK_ID,
					userIds: watched.join(', '),
					recorderUrl: recorder.url,
				}),
				instantWorkflow({
					id: SECOND_ID,
					name: 'Presence changes, a second workflow on the same credential',
					webhookId: SECOND_WEBHOOK_ID,
					userIds: others.join(', '),
					recorderUrl: recorder.url,
				}),
			]);
			if (key === 'v2') await session.cli(['publish:workflow', `--id=${WORKFLOW_ID}`]);
			else await session.cli(['update:workflow', `--id=${WORKFLOW_ID}`, '--active=true']);
			session.timings.push(
				`imports + activation flag after ${((Date.now() - started) / 1000).toFixed(1)} s`,
			);

			emu.clearLog();
			await start();
			cookie = await setupOwner(n8n!.url, OWNER);
		}, 600_000);

		afterAll(async () => {
			const log = allLogs();
			const fired = log.split('\n').filter((text) => /Executing cron/.test(text));
			if (fired.length > 0)
				session.timings.push(`the schedule fired during the run: ${fired.length} time(s)`);
			await n8n?.stop();
			// N8N_E2E_LOG_DIR=<dir>: keep n8n's whole log (debug level) for reading after the run.
			if (process.env.N8N_E2E_LOG_DIR)
				writeFileSync(join(process.env.N8N_E2E_LOG_DIR, `instant-${key}.log`), allLogs());
			await recorder?.stop();
			await emu?.stop();
			if (userFolder) removeUserFolder(userFolder);
			process.stderr.write(
				session?.summary(`${line.label} ${line.version} (instant trigger)`, started) ?? '',
			);
		});

		it(
			'activation of a workflow watching 1,300 users: one subscription for the first 650 at the production webhook URL, validations answered, the schedule registered, the log says who is instant',
			async () => {
				first = await explain(
					waitFor('a subscription at the webhook URL', () => ours()[0], ACTIVATION_WAIT_MS),
				);
				const created = emu.requests('/subscriptions').filter((entry) => entry.method === 'POST');
				expect(created.map((entry) => [entry.status, entry.tokenKind])).toEqual([
					[201, 'delegated'],
				]);
				session.timings.push(`POST /subscriptions ${seconds(created[0].time)} after n8n start`);
				expect(emu.subscriptions).toHaveLength(1);
				expect(first.userIds).toEqual(watched.slice(0, 650).map((id) => id.toLowerCase()));
				expect(first.lifecycleNotificationUrl).toBe(webhookUrl);
				expect(typeof first.clientState).toBe('string');
				expect(Date.parse(first.expirationDateTime) - Date.now()).toBeGreaterThan(50 * 60_000);

				const checks = validations();
				expect(checks.length).toBeGreaterThanOrEqual(2);
				for (const check of checks) {
					const token = new URL(check.url).searchParams.get('validationToken');
					expect([check.status, check.error, check.responseText]).toEqual([200, undefined, token]);
				}
				await explain(activationLogged());
				expect(activationProblems(n8n!.output())).toEqual([]);
				expect(cronRegistrations(n8n!.output())).toHaveLength(1);
				expect(nodeLog().join('\n')).toContain(
					'1300 watched users: 650 instant (one subscription), 650 polled every minute (1 request(s) each time)',
				);
			},
			ACTIVATION_WAIT_MS + 90_000,
		);

		it(
			"an instant user's change → Graph's delivery answered 2xx at once → one webhook run; a polled user's change → one run started by the schedule",
			async () => {
				expect(first).toBeDefined();
				// The schedule's first tick reads everyone once: let it pass, so it cannot be taken for the polled run.
				await explain(
					waitFor(
						'the first tick',
						() => (/Executing cron/.test(n8n!.output()) ? true : undefined),
						TICK_WAIT_MS,
					),
				);
				await sleep(5_000);
				const postsBefore = recorder.posts.length;
				const instant = flip(watched[1]);
				const post = await explain(
					waitFor('the recorded webhook run', () => postAbout(watched[1], postsBefore), 30_000),
				);
				session.timings.push(
					`instant run recorded ${((post.time - instant.at) / 1000).toFixed(1)} s after the change`,
				);
				const delivered = () =>
					emu.deliveries.filter(
						(delivery) => delivery.kind === 'notification' && delivery.url === webhookUrl,
					);
				// Recorded once n8n's answer reached the emulator, which may come after the run's post.
				await explain(
					waitFor(
						"n8n's answer to Graph's delivery",
						() => (delivered().length > 0 ? true : undefined),
						30_000,
					),
				);
				const deliveries = delivered();
				expect(deliveries.map((delivery) => [delivery.status, delivery.attempt])).toEqual([
					[202, 1],
				]);
				expect(deliveries[0].durationMs).toBeLessThan(3000);
				expect(post.body).toMatchObject({
					id: watched[1],
					event: 'changed',
					availability: instant.after.availability,
					previous: { availability: instant.before.availability },
				});

				const polled = flip(watched[1000]);
				const polledPost = await explain(
					waitFor(
						'the run of the polled user',
						() => postAbout(watched[1000], postsBefore),
						TICK_WAIT_MS,
					),
				);
				session.timings.push(
					`polled run recorded ${((polledPost.time - polled.at) / 1000).toFixed(1)} s after the change`,
				);
				expect(polledPost.body).toMatchObject({
					id: watched[1000],
					availability: polled.after.availability,
					previous: { availability: polled.before.availability },
				});
				const runs = await explain(
					finishedExecutions('the executions to finish', () => executions()),
				);
				expect(runs.map((run) => [run.mode, run.status]).sort()).toEqual([
					['trigger', 'success'],
					['webhook', 'success'],
				]);
				await sleep(3_000);
				expect(recorder.posts.slice(postsBefore)).toHaveLength(2);
			},
			TICK_WAIT_MS * 2 + 60_000,
		);

		it('a notification with a wrong or missing clientState is refused (401) and runs nothing', async () => {
			expect(first).toBeDefined();
			const forged = (clientState: unknown) =>
				fetch(webhookUrl, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({
						value: [
							{
								subscriptionId: first!.id,
								clientState,
								changeType: 'updated',
								resource: `communications/presences/${watched[0]}`,
								resourceData: { id: watched[0] },
							},
						],
					}),
				});
			const postsBefore = recorder.posts.length;
			const runsBefore = (await executions()).length;
			expect((await forged('guessed-secret')).status).toBe(401);
			expect((await forged(undefined)).status).toBe(401);
			await sleep(4_000);
			expect(recorder.posts).toHaveLength(postsBefore);
			expect(await executions()).toHaveLength(runsBefore);
		}, 60_000);

		/**
		 * The subscription conflict and its takeover are Graph's rules and the node's upkeep, the same on every n8n
		 * line (the webhook lifecycle and the cron they use are proved on both by the other cases): 2.x only, unless
		 * N8N_E2E_ALL_LINES=1, to keep CI within its hour.
		 */
		const sharedCase = (...args: Parameters<typeof it>) => {
			if (runsSharedBehaviour(key)) it(...args);
		};

		sharedCase(
			"a second workflow on the same credential: Graph allows no second subscription, so it polls its users, says so in n8n's log, and its changes arrive",
			async () => {
				emu.clearLog();
				await setActive(SECOND_ID, true);
				await explain(
					waitFor(
						'the warning of the second workflow',
						() => nodeLog().find((text) => text.includes('held by')),
						ACTIVATION_WAIT_MS,
					),
				);
				const warning = nodeLog().find((text) => text.includes('held by')) ?? '';
				expect(warning).toContain(`held by ${webhookUrl}; all 3 watched users polled every minute`);
				expect(warning).toContain('use another sign-in account or app registration');
				expect(emu.subscriptions.map((subscription) => subscription.notificationUrl)).toEqual([
					webhookUrl,
				]);
				// It looked, saw the holder, and did not try to create one (no retry storm).
				expect(emu.requests('/subscriptions').filter((entry) => entry.method === 'POST')).toEqual(
					[],
				);

				const postsBefore = recorder.posts.length;
				const change = flip(others[0]);
				const post = await explain(
					waitFor(
						"the second workflow's run",
						() => postAbout(others[0], postsBefore),
						TICK_WAIT_MS,
					),
				);
				expect(post.body).toMatchObject({ id: others[0], availability: change.after.availability });
				expect((await executions(SECOND_ID)).map((run) => run.mode)).toEqual(['trigger']);
			},
			ACTIVATION_WAIT_MS + TICK_WAIT_MS + 30_000,
		);

		it(
			'the schedule, ticking in n8n: a subscription with 10 minutes left and no change all its life is renewed, outlives its old expiry, and changes arrive',
			async () => {
				const [current] = ours();
				expect(current).toBeDefined();
				const oldExpiry = emu.now + 10 * 60_000;
				expect(emu.expireSubscriptionIn(current.id, oldExpiry - emu.now)).toBe(true);
				emu.clearLog();
				const renewed = await explain(
					waitFor(
						'the schedule to renew the subscription',
						() =>
							ours().find(
								(sub) =>
									sub.id === current.id &&
									Date.parse(sub.expirationDateTime) > oldExpiry + 30 * 60_000,
							),
						TICK_WAIT_MS,
					),
				);
				expect(renewed.clientState).toBe(current.clientState);
				expect(
					emu
						.requests(`/subscriptions/${current.id}`)
						.map((entry) => `${entry.method} ${entry.status}`),
				).toEqual(['PATCH 200']);
				expect(emu.requests('/subscriptions').filter((entry) => entry.method === 'POST')).toEqual(
					[],
				);
				await sleep(500);
				expect(nodeLog().filter((text) => text.includes('subscription renewed'))).toHaveLength(1);
				expect(nodeLog().filter((text) => text.includes('the schedule failed'))).toEqual([]);

				emu.advanceClock(oldExpiry - emu.now + 60_000);
				expect(ours().map((sub) => sub.id)).toEqual([current.id]);
				const postsBefore = recorder.posts.length;
				const change = flip(watched[0]);
				const run = await explain(
					waitFor(
						'a run through the renewed subscription',
						() => postAbout(watched[0], postsBefore),
						30_000,
					),
				);
				expect(run.body).toMatchObject({ id: watched[0], availability: change.after.availability });
			},
			TICK_WAIT_MS + 60_000,
		);

		it(
			'n8n restarted while the subscription has 15 minutes left: the same subscription and clientState, renewed, and deliveries keep validating',
			async () => {
				const [current] = ours();
				expect(current).toBeDefined();
				await n8n!.stop();
				pastLogs.push(n8n!.output());
				// n8n does not call delete on shutdown: the subscription is still there, with 15 minutes to live.
				expect(ours().map((subscription) => subscription.id)).toEqual([current.id]);
				// 15 minutes on n8n's clock (the emulator's runs ahead since the renewal test advanced it).
				expect(emu.expireSubscriptionIn(current.id, Date.now() + 15 * 60_000 - emu.now)).toBe(true);
				emu.clearLog();
				await start();
				const renewed = await explain(
					waitFor(
						'the renewal at activation',
						() =>
							emu
								.requests(`/subscriptions/${current.id}`)
								.find((entry) => entry.method === 'PATCH' && entry.status === 200),
						ACTIVATION_WAIT_MS,
					),
				);
				expect(renewed).toBeDefined();
				expect(emu.requests('/subscriptions').filter((entry) => entry.method === 'POST')).toEqual(
					[],
				);
				expect(ours().map((entry) => [entry.id, entry.clientState])).toEqual([
					[current.id, current.clientState],
				]);
				await explain(activationLogged());

				const postsBefore = recorder.posts.length;
				const change = flip(watched[2]);
				const post = await explain(
					waitFor('a run after the restart', () => postAbout(watched[2], postsBefore), 30_000),
				);
				expect(post.body).toMatchObject({
					id: watched[2],
					availability: change.after.availability,
				});
				const refused = emu.deliveries.filter(
					(delivery) => delivery.url === webhookUrl && delivery.status === 401,
				);
				expect(refused).toEqual([]);
			},
			ACTIVATION_WAIT_MS + 120_000,
		);

		sharedCase(
			'the first workflow deactivated: its subscription deleted, its webhook 404; the second takes the subscription over within a minute, and its users are instant',
			async () => {
				const [subscription] = ours();
				expect(subscription).toBeDefined();
				emu.clearLog();
				await setActive(WORKFLOW_ID, false);
				await explain(
					waitFor(
						'the subscription to be deleted',
						() => (ours().length === 0 ? true : undefined),
						30_000,
					),
				);
				expect(
					emu
						.requests(`/subscriptions/${subscription.id}`)
						.filter((entry) => entry.method === 'DELETE')
						.map((entry) => entry.status),
				).toEqual([204]);
				const afterwards = await fetch(webhookUrl, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: '{"value":[]}',
				});
				expect(afterwards.status).toBe(404);

				const takenOver = await explain(
					waitFor('the second workflow to subscribe', () => ours(secondUrl)[0], TICK_WAIT_MS),
				);
				expect(takenOver.userIds).toEqual(others.map((id) => id.toLowerCase()));
				expect(nodeLog().join('\n')).toContain('subscribed again');
				const postsBefore = recorder.posts.length;
				flip(others[1]);
				await explain(
					waitFor(
						'an instant run of the second workflow',
						() => postAbout(others[1], postsBefore),
						30_000,
					),
				);
				// The emulator records a delivery when n8n has answered it, which may come after the run's post.
				const toSecond = () =>
					emu.deliveries.filter(
						(delivery) => delivery.kind === 'notification' && delivery.url === secondUrl,
					);
				await explain(
					waitFor(
						"n8n's answer to Graph's delivery",
						() => (toSecond().length > 0 ? true : undefined),
						30_000,
					),
				);
				expect(toSecond()).toHaveLength(1);
				await setActive(SECOND_ID, false);
			},
			TICK_WAIT_MS + 90_000,
		);

		it('prints no secret: not in any n8n log (debug level) or CLI output', () => {
			const secrets = secretsOf(emu, app);
			expect(emu.tokensIssued.length).toBeGreaterThanOrEqual(1);
			// The clientStates the node subscribed with are among them (secretsOf adds what Graph received).
			expect(emu.clientStatesSeen.length).toBeGreaterThanOrEqual(1);
			expect(findSecrets([allLogs(), ...session.transcripts].join('\n'), secrets)).toEqual([]);
			expect(findSecrets(emu.log, secrets)).toEqual([]);
		});
	},
);
