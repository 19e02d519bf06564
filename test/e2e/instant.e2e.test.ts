/**
 * The Instant Presence Trigger (Graph change notifications) in an activated workflow of a real n8n from npm (the
 * packed tarball in the user folder's `.n8n/nodes`), as an admin runs it: the delegated OAuth2 credential (pointing
 * at the Graph emulator, tokens from its sign-in flow) and the workflow
 *   Microsoft Graph Presence Instant Trigger → HTTP Request (POSTs each item to a recorder on 127.0.0.1)
 * imported with n8n's CLI, activated (2.x `publish:workflow`, 1.x `update:workflow --active=true`), then `n8n start`
 * with WEBHOOK_URL on loopback http, at debug log level so n8n's cron registrations show.
 *
 * What is checked, against the emulator (its subscriptions, its deliveries to n8n, its request log), the recorder,
 * n8n's REST API and n8n's log:
 * - activation: n8n ran create → one live subscription for the watched users whose notificationUrl is n8n's
 *   production webhook URL of this node; Graph's validation requests were answered 200 with the token; n8n ran
 *   trigger() too (it registered the node's renewal cron);
 * - a presence change → the notification is answered 2xx at once → exactly one run, its item naming the user,
 *   the new availability and the previous one;
 * - a notification with a wrong or missing clientState is refused (401) and runs nothing;
 * - trigger()'s renewal cron really ticks inside n8n (n8n's clock is shifted a little so a five-minute boundary
 *   comes 85 s after the spawn): a subscription with 10 minutes left and no change all its life → the tick renews
 *   it (PATCH); Graph's clock then passes the old expiry, the subscription lives on and a change still arrives;
 * - n8n stopped: the subscription stays (n8n does not call delete on shutdown); Graph forgets it meanwhile; n8n
 *   started again on the same user folder → checkExists → false → create: a new subscription, and changes arrive;
 * - deactivated through the REST API → delete: the subscription is gone from Graph, the webhook URL answers 404.
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
const OWNER = { email: 'owner@example.test', password: 'E2e-Instant-Passw0rd' };
const RENEWAL_CRON = '0 */5 * * * *';
/** Activation runs after n8n's HTTP server is up; on a loaded machine it takes a while. */
const ACTIVATION_WAIT_MS = 120_000;

const FIVE_MINUTES = 5 * 60_000;
/** After the first spawn, when n8n's (shifted) clock reaches a five-minute boundary: activation is done well before. */
const CRON_AFTER_MS = 85_000;

/**
 * Preloaded into n8n (NODE_OPTIONS=--require): `Date` reads the clock N8N_E2E_CLOCK_SHIFT_MS ahead (or behind).
 * Timers are unchanged, so the cron library, which computes its timeout from `Date`, fires at the shifted boundary.
 */
const CLOCK_SHIFT_PRELOAD = `'use strict';
const shift = Number(process.env.N8N_E2E_CLOCK_SHIFT_MS || 0);
if (shift) {
	const RealDate = Date;
	const realNow = RealDate.now.bind(RealDate);
	const now = () => realNow() + shift;
	globalThis.Date = new Proxy(RealDate, {
		construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
		apply: () => new RealDate(now()).toString(),
		get: (target, prop, receiver) => (prop === 'now' ? now : Reflect.get(target, prop, receiver)),
	});
}
`;

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
		/** The subscription made at the first activation. */
		let first: EmulatedSubscription | undefined;
		/** Real time when the first n8n's shifted clock reaches a five-minute boundary (its renewal cron fires). */
		let cronAtReal = 0;

		const ours = (): EmulatedSubscription[] =>
			emu.subscriptions.filter((subscription) => subscription.notificationUrl === webhookUrl);
		const validations = (since = 0): Delivery[] =>
			emu.deliveries.filter(
				(delivery) =>
					delivery.kind === 'validation' &&
					delivery.url.startsWith(`${webhookUrl}?`) &&
					delivery.time >= since,
			);
		const executions = async (): Promise<ExecutionSummary[]> =>
			await listExecutions(n8n!.url, cookie, WORKFLOW_ID);
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
				`recorded posts: ${JSON.stringify(recorder.posts)}`,
				`executions: ${runs}`,
				'n8n log (related lines):',
				...logLines,
			].join('\n');
		}

		const explain = explainer(diagnostics);

		/**
		 * `n8n start` at debug level. With `cronAfterMs`, n8n's clock (its `Date`, through a preload script) is shifted by
		 * less than 2.5 minutes so that a five-minute boundary, when the node's renewal cron fires, comes that long after
		 * the spawn: the real tick of trigger()'s schedule can be watched without waiting up to five minutes.
		 */
		async function start(cronAfterMs?: number): Promise<void> {
			const brokerPort = await freePort();
			n8nStarted = Date.now();
			const extra: NodeJS.ProcessEnv = {
				N8N_RUNNERS_BROKER_PORT: String(brokerPort),
				N8N_LOG_LEVEL: 'debug',
			};
			if (cronAfterMs !== undefined) {
				const target = n8nStarted + cronAfterMs;
				const shift = Math.round(target / FIVE_MINUTES) * FIVE_MINUTES - target;
				cronAtReal = target;
				const preload = join(userFolder, 'clock-shift.cjs');
				writeFileSync(preload, CLOCK_SHIFT_PRELOAD);
				extra.NODE_OPTIONS = `--require ${preload}`;
				extra.N8N_E2E_CLOCK_SHIFT_MS = String(shift);
				session.timings.push(
					`n8n's clock shifted by ${(shift / 1000).toFixed(1)} s: the renewal cron fires ${cronAfterMs / 1000} s after the spawn`,
				);
			}
			n8n = await startN8n(install, userFolder, port, extra);
			session.timings.push(
				`n8n start answering after ${((Date.now() - n8nStarted) / 1000).toFixed(1)} s`,
			);
		}

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
			logLines(log).filter((text) => /Registered cron/.test(text) && text.includes(RENEWAL_CRON));

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
			emu.addUsers(20);
			app = await registerApp(emu, `ffffffff-0000-4000-8000-00000000000${key === 'v2' ? 2 : 1}`);
			recorder = await startRecorder();
			watched = emu.users.slice(2, 5).map((user) => user.id);

			port = await freePort();
			webhookUrl = `http://127.0.0.1:${port}/webhook/${WEBHOOK_ID}/${INSTANT_WEBHOOK_PATH}`;

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
			]);
			if (key === 'v2') await session.cli(['publish:workflow', `--id=${WORKFLOW_ID}`]);
			else await session.cli(['update:workflow', `--id=${WORKFLOW_ID}`, '--active=true']);
			session.timings.push(
				`imports + activation flag after ${((Date.now() - started) / 1000).toFixed(1)} s`,
			);

			emu.clearLog();
			await start(CRON_AFTER_MS);
			cookie = await setupOwner(n8n!.url, OWNER);
		}, 600_000);

		afterAll(async () => {
			const log = allLogs();
			const fired = log.split('\n').filter((text) => /Executing cron/.test(text));
			if (fired.length > 0)
				session.timings.push(`the renewal cron fired during the run: ${fired.length} time(s)`);
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
			'activation: n8n runs create → one subscription at the production webhook URL, validations answered with the token, trigger() registered',
			async () => {
				first = await explain(
					waitFor('a subscription at the webhook URL', () => ours()[0], ACTIVATION_WAIT_MS),
				);
				const created = emu.requests('/subscriptions').filter((entry) => entry.method === 'POST');
				expect(created.map((entry) => [entry.status, entry.tokenKind])).toEqual([
					[201, 'delegated'],
				]);
				session.timings.push(`POST /subscriptions ${seconds(created[0].time)} after n8n start`);

				expect(ours()).toHaveLength(1);
				expect(first.userIds).toEqual([...watched].map((id) => id.toLowerCase()).sort());
				expect(first.changeType).toBe('updated');
				expect(first.lifecycleNotificationUrl).toBe(webhookUrl);
				expect(typeof first.clientState).toBe('string');
				expect(Date.parse(first.expirationDateTime) - Date.now()).toBeGreaterThan(50 * 60_000);

				// Graph validated the notification URL and the lifecycle URL: both answered by n8n with the token, as text.
				const checks = validations();
				expect(checks.length).toBeGreaterThanOrEqual(2);
				for (const check of checks) {
					const token = new URL(check.url).searchParams.get('validationToken');
					expect([check.status, check.error, check.responseText]).toEqual([200, undefined, token]);
				}

				// The workflow is active, n8n logged no trouble activating it, and it ran trigger(): the renewal cron is registered.
				const workflow = await fetch(`${n8n!.url}/rest/workflows/${WORKFLOW_ID}`, {
					headers: { cookie },
				});
				expect(workflow.status).toBe(200);
				expect(((await workflow.json()) as { data: { active: boolean } }).data.active).toBe(true);
				await explain(activationLogged());
				expect(activationProblems(n8n!.output())).toEqual([]);
				expect(cronRegistrations(n8n!.output())).toHaveLength(1);
				const lines = logLines(n8n!.output());
				const cronAt = lines.findIndex(
					(text) => /Registered cron/.test(text) && text.includes(RENEWAL_CRON),
				);
				const webhookAt = lines.findIndex((text) => /Added webhooks? .*for workflow/.test(text));
				const editorAt = lines.findIndex((text) => /Editor is now accessible/.test(text));
				session.timings.push(
					`log order: trigger()'s cron registered ${cronAt < webhookAt ? 'before' : 'after'} the webhook was added (create done), ` +
						`activation ${webhookAt < editorAt ? 'before' : 'after'} "Editor is now accessible"`,
				);
			},
			ACTIVATION_WAIT_MS + 90_000,
		);

		it("a presence change → Graph's delivery answered 2xx at once → one run whose item names the user, the new and the previous availability", async () => {
			expect(first).toBeDefined();
			const change = flip(watched[1]);
			const [post] = await explain(
				waitFor(
					'the recorded run',
					() => (recorder.posts.length > 0 ? recorder.posts : undefined),
					30_000,
				),
			);
			session.timings.push(
				`run recorded ${((post.time - change.at) / 1000).toFixed(1)} s after the change`,
			);

			const deliveries = emu.deliveries.filter(
				(delivery) => delivery.kind === 'notification' && delivery.url === webhookUrl,
			);
			expect(deliveries).toHaveLength(1);
			expect(deliveries[0].status).toBeGreaterThanOrEqual(200);
			expect(deliveries[0].status).toBeLessThan(300);
			expect(deliveries[0].attempt).toBe(1);
			expect(deliveries[0].durationMs).toBeLessThan(3000);
			session.timings.push(
				`notification answered ${deliveries[0].status} in ${deliveries[0].durationMs} ms`,
			);

			expect(post.body).toMatchObject({
				id: watched[1],
				event: 'changed',
				availability: change.after.availability,
				activity: change.after.activity,
				previous: { availability: change.before.availability, activity: change.before.activity },
			});
			const runs = await explain(
				finishedExecutions('the execution to be listed as finished', executions),
			);
			expect(runs.map((run) => [run.mode, run.status])).toEqual([['webhook', 'success']]);
			await sleep(3_000);
			expect(recorder.posts).toHaveLength(1);
			expect(await executions()).toHaveLength(1);
		}, 90_000);

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
			// 401 is the node's own answer: it refused the notification before reading anything.
			const wrong = await forged('guessed-secret');
			expect(wrong.status).toBe(401);
			const missing = await forged(undefined);
			expect(missing.status).toBe(401);
			await sleep(4_000);
			expect(recorder.posts).toHaveLength(postsBefore);
			expect(await executions()).toHaveLength(runsBefore);
		}, 60_000);

		it(
			"trigger()'s renewal cron, ticking in n8n: a subscription about to expire with no change all its life is renewed, outlives its old expiry, and changes arrive",
			async () => {
				const [current] = ours();
				expect(current).toBeDefined();
				// The boundary must still be ahead (a few seconds of margin), else wait for the next one.
				let boundary = cronAtReal;
				while (boundary < Date.now() + 3_000) boundary += FIVE_MINUTES;
				if (boundary !== cronAtReal)
					session.timings.push(
						`the first cron boundary had passed before this test: waiting ${((boundary - Date.now()) / 1000).toFixed(0)} s more`,
					);
				const cronsBefore = logLines(n8n!.output()).filter((text) =>
					/Executing cron/.test(text),
				).length;
				// As if 45 of its 55 minutes had passed without a single presence change: 10 minutes left, under the node's
				// 20-minute renewal margin, and no notification will come to remind anyone.
				const oldExpiry = emu.now + 10 * 60_000;
				expect(emu.expireSubscriptionIn(current.id, oldExpiry - emu.now)).toBe(true);
				emu.clearLog();

				const renewed = await explain(
					waitFor(
						'the cron to renew the subscription',
						() =>
							ours().find(
								(sub) =>
									sub.id === current.id &&
									Date.parse(sub.expirationDateTime) > oldExpiry + 30 * 60_000,
							),
						boundary - Date.now() + 30_000,
					),
				);
				session.timings.push(
					`cron renewed the subscription ${((Date.now() - boundary) / 1000).toFixed(1)} s after the boundary`,
				);
				expect(renewed.clientState).toBe(current.clientState);
				expect(ours()).toHaveLength(1);
				// What the tick did at Graph: listed ours, renewed the one about to expire (PATCH), created nothing.
				expect(
					emu.requests('/subscriptions').map((entry) => `${entry.method} ${entry.status}`),
				).toEqual(['GET 200', 'PATCH 200']);

				await sleep(500);
				const log = logLines(n8n!.output());
				expect(log.filter((text) => /Executing cron/.test(text)).length).toBeGreaterThan(
					cronsBefore,
				);
				expect(
					log.filter((text) =>
						text.includes(
							'Microsoft Graph Presence Instant Trigger: subscriptions renewed 1, re-created 0, removed 0',
						),
					),
				).toHaveLength(1);
				expect(log.filter((text) => text.includes('renewing subscriptions failed'))).toEqual([]);

				// Graph's clock passes the old expiry: without the renewal the subscription would be gone now.
				emu.advanceClock(oldExpiry - emu.now + 60_000);
				expect(ours().map((sub) => sub.id)).toEqual([current.id]);

				// The renewed subscription still delivers, and its clientState is accepted.
				await sleep(1_000);
				const postsBefore = recorder.posts.length;
				const change = flip(watched[0]);
				const run = await explain(
					waitFor(
						'a run through the renewed subscription',
						() =>
							recorder.posts
								.slice(postsBefore)
								.find((post) => (post.body as { id?: string }).id === watched[0]),
						30_000,
					),
				);
				expect(run.body).toMatchObject({
					id: watched[0],
					availability: change.after.availability,
					previous: { availability: change.before.availability },
				});
			},
			CRON_AFTER_MS + FIVE_MINUTES + 60_000,
		);

		it(
			'n8n restarted after Graph forgot the subscription: checkExists → false → create, a new subscription, and changes arrive again',
			async () => {
				const [current] = ours();
				expect(current).toBeDefined();
				await n8n!.stop();
				pastLogs.push(n8n!.output());
				// n8n does not call delete on shutdown: the subscription is still there.
				expect(ours().map((subscription) => subscription.id)).toEqual([current.id]);
				// Graph forgets it meanwhile (no lifecycle event can reach a stopped n8n anyway).
				expect(emu.dropSubscription(current.id)).toBe(true);
				expect(ours()).toHaveLength(0);
				emu.clearLog();
				const restartedAt = Date.now();
				await start();

				const again = await explain(
					waitFor('a re-created subscription', () => ours()[0], ACTIVATION_WAIT_MS),
				);
				expect(again.id).not.toBe(current.id);
				expect(ours()).toHaveLength(1);
				expect(again.userIds).toEqual([...watched].map((id) => id.toLowerCase()).sort());
				// checkExists asked Graph (a list of subscriptions) before create subscribed again.
				const calls = emu
					.requests('/subscriptions')
					.map((entry) => `${entry.method} ${entry.status}`);
				expect(calls.indexOf('GET 200')).toBeGreaterThanOrEqual(0);
				expect(calls.indexOf('GET 200')).toBeLessThan(calls.indexOf('POST 201'));
				expect(calls.filter((call) => call.startsWith('POST'))).toEqual(['POST 201']);
				for (const check of validations(restartedAt))
					expect([check.status, check.responseText]).toEqual([
						200,
						new URL(check.url).searchParams.get('validationToken'),
					]);
				expect(validations(restartedAt).length).toBeGreaterThanOrEqual(2);

				await explain(activationLogged());
				expect(activationProblems(n8n!.output())).toEqual([]);
				expect(cronRegistrations(n8n!.output())).toHaveLength(1);

				// A change reaches the workflow through the new subscription (with its new clientState).
				const postsBefore = recorder.posts.length;
				const change = flip(watched[2]);
				await explain(
					waitFor(
						'a run after the restart',
						() => (recorder.posts.length > postsBefore ? true : undefined),
						30_000,
					),
				);
				await sleep(2_000);
				expect(recorder.posts).toHaveLength(postsBefore + 1);
				expect(recorder.posts[postsBefore].body).toMatchObject({
					id: watched[2],
					event: 'changed',
					availability: change.after.availability,
					previous: { availability: change.before.availability },
				});
			},
			ACTIVATION_WAIT_MS + 180_000,
		);

		it('deactivated through the REST API → delete: the subscription is gone from Graph, the webhook answers 404, the cron is deregistered', async () => {
			const [subscription] = ours();
			expect(subscription).toBeDefined();
			emu.clearLog();
			const response = await fetch(`${n8n!.url}/rest/workflows/${WORKFLOW_ID}/deactivate`, {
				method: 'POST',
				headers: { cookie, 'content-type': 'application/json' },
				body: '{}',
			});
			expect(response.status).toBe(200);
			expect(((await response.json()) as { data: { active: boolean } }).data.active).toBe(false);

			await explain(
				waitFor(
					'the subscription to be deleted',
					() => (ours().length === 0 ? true : undefined),
					30_000,
				),
			);
			const deletes = emu
				.requests(`/subscriptions/${subscription.id}`)
				.filter((entry) => entry.method === 'DELETE');
			expect(deletes.map((entry) => entry.status)).toEqual([204]);
			expect(emu.subscriptions).toHaveLength(0);

			const afterwards = await fetch(webhookUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: '{"value":[]}',
			});
			expect(afterwards.status).toBe(404);
			expect(n8n!.output()).toMatch(/Deregistered (all )?crons?/);
		}, 90_000);

		it('prints no secret: not in any n8n log (debug level) or CLI output', () => {
			const secrets = secretsOf(emu, app);
			expect(emu.tokensIssued.length).toBeGreaterThanOrEqual(1);
			expect(findSecrets([allLogs(), ...session.transcripts].join('\n'), secrets)).toEqual([]);
		});
	},
);
