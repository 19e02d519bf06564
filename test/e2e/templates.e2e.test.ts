/**
 * The ready-made workflows of `workflows/` imported into a real n8n from npm (both lines) and run against the Graph
 * emulator (3,000 users), as a user runs them after Import from File: their own credentials chosen, everything else
 * as shipped (the groups "Support Team" and "Support Agents" exist in this tenant, the Slack channel, the addresses
 * and the webhook paths are the files' own).
 *
 * - morning-digest: executed with `n8n execute` (its Run now trigger); the mail that reaches the local SMTP server
 *   names who is out of office and who has a status message.
 * - route-to-available, presence-board: activated, then called over HTTP on `n8n start`'s webhook URLs.
 * - slack-when-available: activated; n8n's own Slack node posts through HTTPS_PROXY to a local stand-in for Slack's
 *   API (./fixtures/slackStandIn.ts). One message per change to Available, naming the person and the new status.
 * The board is also opened in Chromium and photographed for the README (2.x line only: one picture).
 */
import { mkdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { GraphEmulator, type EmulatedUser, type LogEntry } from '../emulator';
import {
	appSecretData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import { launchChromium } from './browser/chromium';
import {
	n8nLineCases,
	removeUserFolder,
	ROOT,
	setupOwner,
	startN8n,
	type N8nLine,
	type RunningN8n,
} from './lib/n8n';
import { APP_CREDENTIAL_TYPE, type N8nCredentialRecord } from './fixtures/n8nJson';
import {
	explainer,
	finishedExecutions,
	freePort,
	listExecutions,
	N8nCliSession,
	sleep,
	waitFor,
} from './fixtures/n8nSession';
import { startSlackStandIn, type SlackStandIn } from './fixtures/slackStandIn';
import { startSmtpSink, type SmtpSink } from './fixtures/smtpSink';
import {
	importableTemplate,
	readTemplate,
	templateFileNames,
	templateNode,
	type CredentialChoice,
} from './fixtures/templates';
import { SMTP_CREDENTIAL_TYPE, smtpCredentialRecord } from './fixtures/triggerWorkflows';
import { nodeOutput } from './fixtures/workflows';

const IDS = {
	slack: 'msgpTplSlack0001',
	digest: 'msgpTplDigest001',
	route: 'msgpTplRoute0001',
	board: 'msgpTplBoard0001',
} as const;
const CREDENTIALS = {
	graph: { id: 'msgpTplGraph0001', name: 'Graph app (templates)' },
	/** The Slack workflow's trigger signs in as an app of its own, so its polls can be told from the webhooks' reads. */
	graphTrigger: { id: 'msgpTplGraph0002', name: 'Graph app (Slack trigger)' },
	smtp: { id: 'msgpTplSmtp00001', name: 'Local mail sink' },
	slack: { id: 'msgpTplSlack0001', name: 'Slack stand-in' },
} as const;
const SLACK_TOKEN = 'xoxb-e2e-0000-templates-token';
const OWNER = { email: 'owner@example.test', password: 'E2e-Templates-Passw0rd' };
const PRESENCES = '/communications/getPresencesByUserId';
/** A poll every minute at a random second, plus the execution and the Slack round trip. */
const POLL_WAIT_MS = 90_000;
const HOSTILE_NAME = '<script>alert("name")</script> Eve Example';
const HOSTILE_MESSAGE =
	'Back at 3 <script>alert("message")</script><img src=x onerror=alert(1)> & "later"';
/** The hostile message as the templates show it: Teams' HTML as text (tags out), then, on the board, escaped. */
const HOSTILE_MESSAGE_TEXT = 'Back at 3 alert("message") & "later"';

const statusMessage = (content: string, contentType: 'text' | 'html') => ({
	message: { content, contentType },
	expiryDateTime: null,
	publishedDateTime: new Date().toISOString(),
});

const escapeHtml = (text: string) =>
	text.replace(
		/[&<>"']/g,
		(c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
	);

describe.each(n8nLineCases())(
	'%s: the ready-made workflows, imported and run',
	(_label, key, line: N8nLine) => {
		let session: N8nCliSession;
		let userFolder: string;
		let emu: GraphEmulator;
		let app: TestApp;
		let triggerApp: TestApp;
		let smtp: SmtpSink;
		let slack: SlackStandIn;
		let n8n: RunningN8n | undefined;
		let cookie: string;
		let started = 0;
		let n8nStarted = 0;
		let team: EmulatedUser[];
		let agents: EmulatedUser[];
		let digestRun: unknown;
		let digestError: unknown;

		const triggerPolls = (): LogEntry[] =>
			emu
				.requests(PRESENCES)
				.filter(
					(entry) =>
						entry.method === 'POST' &&
						!entry.batchSubRequest &&
						entry.clientId === triggerApp.clientId,
				);

		async function diagnostics(): Promise<string> {
			const at = (time: number) => `+${((time - n8nStarted) / 1000).toFixed(1)} s`;
			let runs = '(no n8n)';
			try {
				runs = n8n
					? JSON.stringify(
							await Promise.all(
								Object.values(IDS).map(async (id) => [
									id,
									await listExecutions(n8n!.url, cookie, id),
								]),
							),
						)
					: runs;
			} catch (error) {
				runs = String(error);
			}
			return [
				`trigger polls: ${triggerPolls()
					.map((entry) => `${at(entry.time)} ${entry.status}`)
					.join(', ')}`,
				`slack messages: ${JSON.stringify(slack.messages.map((m) => ({ at: at(m.receivedAt), text: m.text })))}`,
				`proxy tunnels: ${slack.tunnels.join(', ')}`,
				`executions: ${runs}`,
				'n8n log (last lines):',
				...(n8n?.output() ?? '').split('\n').slice(-40),
			].join('\n');
		}
		const explain = explainer(diagnostics);

		const webhook = (path: string) => `${n8n!.url}/webhook/${path}`;

		beforeAll(async () => {
			started = Date.now();
			session = await N8nCliSession.open(line, `n8n-e2e-templates-${key}-`);
			userFolder = session.userFolder;

			emu = await GraphEmulator.start({ seed: key === 'v2' ? 61 : 67 });
			emu.addUsers(3000);
			app = await registerApp(
				emu,
				`eeeeeeee-0000-4000-8000-0000000016${key === 'v2' ? '02' : '01'}`,
			);
			triggerApp = await registerApp(
				emu,
				`eeeeeeee-0000-4000-8000-0000000016${key === 'v2' ? '12' : '11'}`,
			);
			smtp = await startSmtpSink();
			slack = await startSlackStandIn();

			// The tenant the templates' placeholders name: "Support Team" (board, digest, Slack) and "Support Agents".
			team = emu.users.slice(100, 112);
			// Nobody out of office or with a message, but for these four: the digest's lists are exactly them.
			for (const user of team)
				emu.setPresence(user.id, {
					statusMessage: null,
					outOfOfficeSettings: { isOutOfOffice: false, message: null },
				});
			emu.updateUser(team[0].id, { displayName: HOSTILE_NAME });
			emu.setPresence(team[0].id, {
				availability: 'Busy',
				activity: 'InAMeeting',
				statusMessage: statusMessage(HOSTILE_MESSAGE, 'html'),
			});
			emu.setPresence(team[1].id, {
				availability: 'Away',
				activity: 'OutOfOffice',
				outOfOfficeSettings: { isOutOfOffice: true, message: 'Back on Monday' },
			});
			emu.setPresence(team[2].id, {
				availability: 'Offline',
				activity: 'OffWork',
				outOfOfficeSettings: { isOutOfOffice: true, message: null },
				statusMessage: statusMessage('On leave until the 9th', 'text'),
			});
			emu.setPresence(team[3].id, {
				availability: 'Available',
				activity: 'Available',
				statusMessage: statusMessage('In training until 11', 'text'),
			});
			emu.addGroup({ displayName: 'Support Team', members: team.map((user) => user.id) });
			agents = emu.users.slice(200, 205);
			emu.addGroup({ displayName: 'Support Agents', members: agents.map((user) => user.id) });

			await session.importFile('credentials', [
				{ ...CREDENTIALS.graph, type: APP_CREDENTIAL_TYPE, data: appSecretData(emu, app) },
				{
					...CREDENTIALS.graphTrigger,
					type: APP_CREDENTIAL_TYPE,
					data: appSecretData(emu, triggerApp),
				},
				{ ...smtpCredentialRecord(smtp.port), ...CREDENTIALS.smtp },
				{ ...CREDENTIALS.slack, type: 'slackApi', data: { accessToken: SLACK_TOKEN } },
			] satisfies N8nCredentialRecord[]);
			const chosen: CredentialChoice = {
				[APP_CREDENTIAL_TYPE]: CREDENTIALS.graph,
				[SMTP_CREDENTIAL_TYPE]: CREDENTIALS.smtp,
				slackApi: CREDENTIALS.slack,
			};
			await session.importFile('workflow', [
				importableTemplate('slack', IDS.slack, {
					...chosen,
					[APP_CREDENTIAL_TYPE]: CREDENTIALS.graphTrigger,
				}),
				importableTemplate('digest', IDS.digest, chosen),
				importableTemplate('route', IDS.route, chosen),
				importableTemplate('board', IDS.board, chosen),
			]);

			// The digest runs from the CLI before n8n starts (one process on the database at a time).
			try {
				digestRun = await session.execute(IDS.digest);
			} catch (error) {
				digestError = error;
			}

			for (const id of [IDS.slack, IDS.route, IDS.board]) {
				if (key === 'v2') await session.cli(['publish:workflow', `--id=${id}`]);
				else await session.cli(['update:workflow', `--id=${id}`, '--active=true']);
			}

			emu.clearLog();
			const port = await freePort();
			n8nStarted = Date.now();
			n8n = await startN8n(session.install, userFolder, port, {
				N8N_RUNNERS_BROKER_PORT: String(await freePort()),
				...slack.env(),
			});
			cookie = await setupOwner(n8n.url, OWNER);
			// n8n answers before it has activated the workflows, and their webhooks 404 until then. Registered: the board
			// answers its GET; for the POST-only route, n8n's 404 to a GET names the method it has ("Did you mean to
			// make a POST request?"), where an unknown path is just "not registered".
			const activated = Date.now();
			let seen: string[] = [];
			await explain(
				waitFor(
					'n8n to register the two webhooks',
					async () => {
						seen = await Promise.all(
							['route-ticket', 'presence-board'].map(async (path) => {
								const response = await fetch(webhook(path), {
									signal: AbortSignal.timeout(30_000),
								}).catch((error: Error) => error);
								if (response instanceof Error) return response.message;
								return `${response.status} ${(await response.text()).slice(0, 200)}`;
							}),
						);
						const [route, board] = seen;
						return (
							(route.includes('Did you mean to make a POST request') && board.startsWith('200 ')) ||
							undefined
						);
					},
					60_000,
					500,
				),
			).catch((error: Error) => {
				throw new Error(`${error.message}\nlast answers: ${seen.join(' | ')}`);
			});
			session.timings.push(
				`webhooks registered ${((Date.now() - activated) / 1000).toFixed(1)} s after sign-up`,
			);
			session.timings.push(
				`n8n start answering after ${((Date.now() - n8nStarted) / 1000).toFixed(1)} s`,
			);
		}, 600_000);

		afterAll(async () => {
			await n8n?.stop();
			await slack?.stop();
			await smtp?.stop();
			await emu?.stop();
			if (userFolder) removeUserFolder(userFolder);
			process.stderr.write(
				session?.summary(`${line.label} ${line.version} (templates)`, started) ?? '',
			);
		});

		it("every n8n node type and version the templates use is one this n8n has (n8n-nodes-base's own list)", () => {
			const known = JSON.parse(
				readFileSync(
					join(
						session.install.dir,
						'node_modules',
						'n8n-nodes-base',
						'dist',
						'types',
						'nodes.json',
					),
					'utf8',
				),
			) as Array<{ name: string; version: number | number[] }>;
			const versions = new Map<string, Set<number>>();
			for (const node of known)
				for (const version of Array.isArray(node.version) ? node.version : [node.version])
					versions.set(
						`n8n-nodes-base.${node.name}`,
						(versions.get(`n8n-nodes-base.${node.name}`) ?? new Set()).add(version),
					);
			const used = templateFileNames().flatMap((file) =>
				readTemplate(file)
					.nodes.filter((node) => node.type.startsWith('n8n-nodes-base.'))
					.map((node) => `${file}: ${node.type}@${node.typeVersion}`),
			);
			expect(used.length).toBeGreaterThan(10);
			const missing = used.filter((entry) => {
				const [, type, version] = /: (.+)@(.+)$/.exec(entry) ?? [];
				return !versions.get(type)?.has(Number(version));
			});
			expect(missing).toEqual([]);
		});

		it('morning-digest: one mail naming who is out of office and who has a status message', async () => {
			if (digestError) throw digestError;
			const mail = templateNode('digest', '.emailSend').parameters;
			const [received] = await smtp.waitForMails(1, 10_000);
			expect(smtp.mails).toHaveLength(1);
			expect(received.from).toBe(mail.fromEmail);
			expect(received.to).toEqual([mail.toEmail]);
			expect(received.subject).toBe('Presence digest: 2 out of office, 3 with a status message');
			const text = received.text;
			const outOfOffice = text.slice(
				text.indexOf('Out of office (2):'),
				text.indexOf('Status messages'),
			);
			expect(outOfOffice).toContain(`- ${team[1].displayName}: Back on Monday`);
			expect(outOfOffice).toContain(`- ${team[2].displayName}\n`);
			const messages = text.slice(text.indexOf('Status messages (3):'));
			expect(messages).toContain(`- ${team[2].displayName}: On leave until the 9th`);
			expect(messages).toContain(`- ${team[3].displayName}: In training until 11`);
			// A plain-text mail: Teams' HTML message as text.
			expect(messages).toContain(`- ${HOSTILE_NAME}: ${HOSTILE_MESSAGE_TEXT}`);
			expect(text).toMatch(/^Presence of 12 people at .+: \d+ available\./);
			// The Get Many read the group (one member listing) and everyone's presence in one request.
			const got = nodeOutput(digestRun, 'Get presence of the group');
			expect(got).toHaveLength(12);
			expect(got.every((item) => typeof item.json.displayName === 'string')).toBe(true);
		});

		it('route-to-available: each ticket goes to the next Available agent in turn; nobody available is a 503', async () => {
			const order = [...agents].sort((a, b) => {
				const ka = `${a.displayName.toLowerCase()}\u0000${a.id.toLowerCase()}`;
				const kb = `${b.displayName.toLowerCase()}\u0000${b.id.toLowerCase()}`;
				return ka < kb ? -1 : ka > kb ? 1 : 0;
			});
			order.forEach((user, index) =>
				emu.setPresence(
					user.id,
					[1, 2, 4].includes(index)
						? { availability: 'Available', activity: 'Available' }
						: { availability: 'Busy', activity: 'InACall' },
				),
			);
			const ticket = async (n: number) => {
				const response = await fetch(webhook('route-ticket'), {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ ticket: `T-${n}`, subject: 'Printer on fire' }),
					signal: AbortSignal.timeout(30_000),
				});
				const answer = {
					status: response.status,
					headers: response.headers,
					text: await response.text(),
				};
				// Respond to Webhook answers before the run ends; n8n saves the static data (who got the last ticket)
				// as the run ends, before it records the execution as finished. A ticket sent in between would see the
				// previous turn (the README says so): the test sends the next one when the run is recorded.
				await explain(
					waitFor(
						`the run of ticket ${n} to be recorded`,
						async () => {
							const runs = await listExecutions(n8n!.url, cookie, IDS.route);
							return runs.length === n && runs.every((run) => run.status === 'success')
								? runs
								: undefined;
						},
						30_000,
						200,
					),
				);
				return answer;
			};
			const assigned: string[] = [];
			for (let n = 1; n <= 4; n++) {
				const answer = await ticket(n);
				if (answer.status !== 200)
					throw new Error(`ticket ${n}: ${answer.status} ${answer.text}\n${await diagnostics()}`);
				const body = JSON.parse(answer.text) as {
					agent: { id: string; displayName: string; mail: string };
					availableAgents: number;
					ticket: { ticket: string };
				};
				expect(body.ticket.ticket).toBe(`T-${n}`);
				expect(body.availableAgents).toBe(3);
				assigned.push(body.agent.id);
				const agent = order.find((user) => user.id === body.agent.id);
				expect(body.agent.displayName).toBe(agent?.displayName);
				expect(body.agent.mail).toBe(agent?.mail);
			}
			// Round robin in display-name order, remembered between runs (the workflow's static data).
			expect(assigned).toEqual([order[1].id, order[2].id, order[4].id, order[1].id]);

			// The next one after order[1] is order[2], unless order[2] is no longer available.
			emu.setPresence(order[2].id, { availability: 'Busy', activity: 'InAMeeting' });
			const fifth = await ticket(5);
			expect((JSON.parse(fifth.text) as { agent: { id: string } }).agent.id).toBe(order[4].id);

			for (const user of order)
				emu.setPresence(user.id, { availability: 'Away', activity: 'Away' });
			const nobody = await ticket(6);
			expect(nobody.status).toBe(503);
			expect(JSON.parse(nobody.text)).toEqual({ error: 'nobody available' });
			expect(nobody.headers.get('retry-after')).toBe('60');
		});

		it('presence-board: an HTML page of one tile per member, escaped, refreshing itself; photographed in Chromium', async () => {
			const response = await explain(
				fetch(webhook('presence-board'), { signal: AbortSignal.timeout(30_000) }),
			);
			const html = await response.text();
			expect(response.status).toBe(200);
			expect(response.headers.get('content-type')).toMatch(/^text\/html/);
			expect(html).toMatch(/<meta http-equiv="refresh" content="\d+">/);
			const tiles = html.split('<section class="tile"').slice(1);
			expect(tiles).toHaveLength(12);
			for (const user of team) {
				const presence = emu.effectivePresence(user.id);
				const tile = tiles.find((t) => t.includes(`<h2>${escapeHtml(user.displayName)}</h2>`));
				expect(tile).toBeDefined();
				expect(tile).toContain(`data-availability="${presence.availability}"`);
				expect(tile).toMatch(/<p class="since">since \d\d:\d\d<\/p>/);
			}
			const tileOf = (user: EmulatedUser) =>
				tiles.find((t) => t.includes(`<h2>${escapeHtml(user.displayName)}</h2>`)) ?? '';
			expect(tileOf(team[0])).toContain(
				`<p class="message">${escapeHtml(HOSTILE_MESSAGE_TEXT)}</p>`,
			);
			expect(tileOf(team[0])).toContain('<p class="activity">In A Meeting</p>');
			expect(tileOf(team[1])).toContain('<p class="activity">Out Of Office</p>');
			expect(tileOf(team[2])).toContain('<p class="ooo">Out of office</p>');
			expect(tileOf(team[3])).toContain('<p class="message">In training until 11</p>');
			// Nothing from Graph reaches the page as markup.
			expect(html).not.toContain('<script>');
			expect(html).not.toContain('<img');
			expect(html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; Eve Example');

			const browser = await launchChromium();
			try {
				const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
				const dialogs: string[] = [];
				page.on('dialog', (dialog) => {
					dialogs.push(dialog.message());
					void dialog.dismiss();
				});
				await page.goto(webhook('presence-board'));
				await page.waitForSelector('section.tile');
				expect(await page.locator('section.tile').count()).toBe(12);
				expect(await page.locator('section.tile h2').first().textContent()).toBeTruthy();
				await expect(page.getByText(HOSTILE_NAME, { exact: true }).count()).resolves.toBe(1);
				expect(dialogs).toEqual([]);
				if (key === 'v2') {
					const dir = join(ROOT, 'test', 'e2e', 'screenshots');
					mkdirSync(dir, { recursive: true });
					await page.screenshot({ path: join(dir, 'presence-board.png') });
				}
			} finally {
				await browser.close();
			}
		});

		it('slack-when-available: after the silent first poll, one change to Available posts one Slack message naming the person and the status', async () => {
			const first = await explain(
				waitFor("the trigger's first poll", () => triggerPolls()[0], POLL_WAIT_MS),
			);
			session.timings.push(
				`first trigger poll +${((first.time - n8nStarted) / 1000).toFixed(1)} s after n8n start`,
			);
			await sleep(3_000);
			expect(slack.messages).toEqual([]);

			const person = team.find(
				(user, index) => index > 0 && emu.effectivePresence(user.id).availability !== 'Available',
			)!;
			const before = emu.effectivePresence(person.id).availability;
			// Another member changes too, but not to Available: the template's filter keeps that quiet.
			const other = team.find(
				(user) =>
					user !== person &&
					!['Available', 'Away'].includes(emu.effectivePresence(user.id).availability ?? ''),
			)!;
			emu.setPresence(other.id, { availability: 'Away', activity: 'Away' });
			emu.setPresence(person.id, { availability: 'Available', activity: 'Available' });
			const changedAt = Date.now();

			await explain(waitFor('the Slack message', () => slack.messages[0], POLL_WAIT_MS));
			session.timings.push(
				`Slack message ${((slack.messages[0].receivedAt - changedAt) / 1000).toFixed(1)} s after the change`,
			);
			const message = slack.messages[0];
			expect(message.text).toBe(`${person.displayName} is now Available (was ${before})`);
			expect(message.channel).toBe(
				(templateNode('slack', '.slack').parameters.channelId as { value: string }).value,
			);
			expect(message.authorization).toBe(`Bearer ${SLACK_TOKEN}`);
			expect(
				slack.tunnels.filter((target) => target === 'slack.com:443').length,
			).toBeGreaterThanOrEqual(1);

			// Once per change: the poll after the message posts nothing more.
			const next = await explain(
				waitFor(
					'the poll after the message',
					() => triggerPolls().find((entry) => entry.time > message.receivedAt),
					POLL_WAIT_MS,
				),
			);
			expect(next.status).toBe(200);
			await sleep(5_000);
			expect(slack.messages).toHaveLength(1);
			const runs = await explain(
				finishedExecutions('the Slack execution', () =>
					listExecutions(n8n!.url, cookie, IDS.slack),
				),
			);
			expect(runs.map((run) => [run.mode, run.status])).toEqual([['trigger', 'success']]);
		}, 300_000);

		it("leaks no secret: not in n8n's log, the mail or what reached Slack", () => {
			const secrets = [...secretsOf(emu, app), triggerApp.clientSecret];
			expect(
				findSecrets(
					[
						n8n?.output() ?? '',
						...session.transcripts,
						...smtp.mails.map((m) => m.raw),
						...slack.messages.map((m) => JSON.stringify(m.body)),
					].join('\n'),
					secrets,
				),
			).toEqual([]);
			expect((n8n?.output() ?? '') + session.transcripts.join('\n')).not.toContain(SLACK_TOKEN);
		});
	},
);
