/**
 * n8n's queue mode, as an admin scales out: PostgreSQL and Redis (Debian's packages, started here), one main
 * (`n8n start`, which runs the triggers) and three workers (`n8n worker`), all n8n 2.41.1 from npm with the packed
 * tarball in each one's `.n8n/nodes`, one Entra app (the Graph emulator's) for everything.
 *
 * Graph's presence budget belongs to the app, not to a process. The emulator throttles the app at 200 requests per
 * 30 s — Graph's 1,500 scaled down so that three runs of 100,000 ids (154 requests each, 462 in all) need the
 * budget for more than two windows — and every Get Many says `Max Requests per 30 Seconds: 200`, as a user would
 * after lowering the budget for their app. Each worker's limiter alone would allow 200: three would spend 600.
 *
 * What is checked:
 * - three webhook-started workflows, each Get Many over 100,000 different ids, run at the same time on more than one
 *   worker: every id comes back exactly once in each answer, and Graph never admitted more than the budget in any
 *   window. The 429 share and the share of the budget used are reported (stderr and test/e2e/results/queue.json),
 *   not asserted: they are performance figures and depend on the machine.
 * - the polling Presence Trigger, active on the main, sends one mail per presence change while the workers are busy,
 *   and its downstream node (Send Email) runs on a worker.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join } from 'path';

import { GraphEmulator, type LogEntry } from '../emulator';
import {
	appSecretData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import {
	createUserFolder,
	ensureN8n,
	N8N_LINES,
	packPackage,
	removeUserFolder,
	setupOwner,
	startN8n,
	startN8nWorker,
	type RunningN8n,
} from './lib/n8n';
import {
	explainer,
	freePort,
	listExecutions,
	N8nCliSession,
	sleep,
	waitFor,
	type ExecutionSummary,
} from './fixtures/n8nSession';
import { fleetWorkflow } from './fixtures/queueWorkflows';
import { startPostgres, startRedis, type LocalService } from './fixtures/services';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './fixtures/smtpSink';
import { presenceMailWorkflow, smtpCredentialRecord } from './fixtures/triggerWorkflows';
import { graphCredentialRecord } from './fixtures/n8nJson';

const LINE = N8N_LINES.v2;
const BUDGET = { limit: 200, windowMs: 30_000 };
const IDS_PER_RUN = 100_000;
const RUNS = 3;
const WORKERS = 3;
const WORKER_CONCURRENCY = 2;
const LATENCY_MS = 50;
const PRESENCES = '/communications/getPresencesByUserId';
const TRIGGER_WORKFLOW = 'msgpWfQueueTrig1';
const fleetId = (run: number) => `msgpWfQueueRun0${run}`;
const OWNER = { email: 'owner@example.test', password: 'E2e-Queue-Passw0rd' };
const POLL_WAIT_MS = 100_000;
const RESULTS = join(__dirname, 'results');

interface FleetFigures {
	runs: number;
	idsPerRun: number;
	workers: number;
	budget: string;
	requests: number;
	throttled: number;
	throttledShare: number;
	/** The runs' requests Graph answered with presences. */
	admitted: number;
	/** From the runs' first to their last request. */
	spanSeconds: number;
	throughputOfBudget: number;
	boundSeconds: number;
	wallSeconds: number[];
	/** Per run: seconds from the webhook calls to its first and to its last Graph request. */
	graphSeconds: number[][];
	workersUsed: number;
	maxAdmittedInAnyWindow: number;
}

describe(`${LINE.label} ${LINE.version} in queue mode: a main, ${WORKERS} workers, PostgreSQL and Redis, one Entra app`, () => {
	let pg: LocalService;
	let redis: LocalService;
	let emu: GraphEmulator;
	let app: TestApp;
	let smtp: SmtpSink;
	let main: RunningN8n | undefined;
	const workers: RunningN8n[] = [];
	const folders: string[] = [];
	let session: N8nCliSession;
	let cookie: string;
	let started = 0;
	let watched: string[];
	let runIds: string[][];
	let figures: FleetFigures | undefined;
	const mailsExpected: Array<{ id: string; availability: string; at: number }> = [];

	/** The workflow's executions; n8n may close an idle kept-alive connection just as it is reused, so ask twice. */
	const executions = async (workflowId: string): Promise<ExecutionSummary[]> => {
		try {
			return await listExecutions(main!.url, cookie, workflowId);
		} catch {
			await sleep(1_000);
			return await listExecutions(main!.url, cookie, workflowId);
		}
	};

	const polls = (): LogEntry[] =>
		emu
			.requests(PRESENCES)
			.filter(
				(entry) =>
					entry.method === 'POST' &&
					!entry.batchSubRequest &&
					(entry.body as { ids?: string[] }).ids?.length === watched.length,
			);

	/** Which worker ran an execution: each says "Worker started execution <id>" in its log. */
	const workerOf = (executionId: string): number =>
		workers.findIndex((worker) =>
			new RegExp(`Worker started execution ${executionId}\\b`).test(worker.output()),
		);

	async function diagnostics(): Promise<string> {
		const lines = [`main log (tail):\n${(main?.output() ?? '').slice(-3000)}`];
		workers.forEach((worker, index) =>
			lines.push(`worker ${index + 1} log (tail):\n${worker.output().slice(-1500)}`),
		);
		lines.push(`mails: ${JSON.stringify(smtp?.mails.map((mail) => mail.subject))}`);
		return lines.join('\n');
	}

	const explain = explainer(diagnostics);

	beforeAll(async () => {
		started = Date.now();
		const [install, tarball, postgres, redisServer, sink] = await Promise.all([
			ensureN8n(LINE),
			packPackage(),
			startPostgres(),
			startRedis(),
			startSmtpSink(),
		]);
		pg = postgres;
		redis = redisServer;
		smtp = sink;

		emu = await GraphEmulator.start({ seed: 91, latencyMs: LATENCY_MS, throttle: { ...BUDGET } });
		emu.addUsers(RUNS * IDS_PER_RUN + 10);
		app = await registerApp(emu, 'eeeeeeee-0000-4000-8000-0000000000a9');
		watched = emu.users.slice(RUNS * IDS_PER_RUN, RUNS * IDS_PER_RUN + 3).map((user) => user.id);
		runIds = Array.from({ length: RUNS }, (_, run) =>
			emu.users.slice(run * IDS_PER_RUN, (run + 1) * IDS_PER_RUN).map((user) => user.id),
		);

		const queueEnv: NodeJS.ProcessEnv = {
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			QUEUE_HEALTH_CHECK_ACTIVE: 'false',
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(pg.port),
			DB_POSTGRESDB_DATABASE: 'postgres',
			DB_POSTGRESDB_USER: 'postgres',
			DB_POSTGRESDB_PASSWORD: '',
			N8N_ENCRYPTION_KEY: 'queue-e2e-encryption-key-9f3b1c7d',
			// 100,000 ids in a webhook body are about 3.7 MB.
			N8N_PAYLOAD_SIZE_MAX: '64',
		};
		const mainFolder = await createUserFolder(tarball, 'n8n-e2e-queue-main-');
		folders.push(mainFolder);
		session = new N8nCliSession(install, mainFolder, queueEnv);
		await session.importFile('credentials', [
			graphCredentialRecord('app', appSecretData(emu, app)),
			smtpCredentialRecord(smtp.port),
		]);
		await session.importFile('workflow', [
			presenceMailWorkflow({
				id: TRIGGER_WORKFLOW,
				name: 'Presence changes → mail (queue mode)',
				userIds: watched.join(', '),
				from: 'n8n@example.test',
				to: 'presence-desk@example.test',
				options: { maxRequestsPer30Seconds: BUDGET.limit },
			}),
			...Array.from({ length: RUNS }, (_, run) =>
				fleetWorkflow({
					id: fleetId(run + 1),
					name: `Who is free ${run + 1}`,
					path: `who-is-free-${run + 1}`,
					webhookId: `5f0c7a52-0000-4000-8000-00000000000${run + 1}`,
					maxRequestsPer30Seconds: BUDGET.limit,
				}),
			),
		]);
		for (const id of [
			TRIGGER_WORKFLOW,
			...Array.from({ length: RUNS }, (_, run) => fleetId(run + 1)),
		])
			await session.cli(['publish:workflow', `--id=${id}`]);

		// Each worker has its own user folder with the package installed, as on its own machine.
		const workerFolders = Array.from({ length: WORKERS }, (_, index) => {
			const folder = mkdtempSync(join(tmpdir(), `n8n-e2e-queue-worker${index + 1}-`));
			cpSync(join(mainFolder, '.n8n', 'nodes'), join(folder, '.n8n', 'nodes'), { recursive: true });
			folders.push(folder);
			return folder;
		});
		emu.clearLog();
		const port = await freePort();
		const brokerPorts = await Promise.all(Array.from({ length: WORKERS + 1 }, () => freePort()));
		const [mainProcess, ...workerProcesses] = await Promise.all([
			startN8n(install, mainFolder, port, {
				...queueEnv,
				N8N_RUNNERS_BROKER_PORT: String(brokerPorts[0]),
			}),
			...workerFolders.map((folder, index) =>
				startN8nWorker(install, folder, WORKER_CONCURRENCY, {
					...queueEnv,
					N8N_RUNNERS_BROKER_PORT: String(brokerPorts[index + 1]),
				}),
			),
		]);
		main = mainProcess;
		workers.push(...workerProcesses);
		cookie = await setupOwner(main.url, OWNER);
		session.timings.push(
			`queue mode up (main + ${WORKERS} workers) ${((Date.now() - started) / 1000).toFixed(1)} s after the start`,
		);
	}, 900_000);

	afterAll(async () => {
		await Promise.all([main?.stop(), ...workers.map((worker) => worker.stop())]);
		await Promise.all([smtp?.stop(), emu?.stop(), pg?.stop(), redis?.stop()]);
		for (const folder of folders) removeUserFolder(folder);
		process.stderr.write(
			session?.summary(`${LINE.label} ${LINE.version} (queue mode)`, started) ?? '',
		);
		if (figures)
			process.stderr.write(`[n8n-e2e] queue-mode fleet figures: ${JSON.stringify(figures)}\n`);
	});

	it('the main is the leader and runs the trigger: its first poll records a baseline silently', async () => {
		const first = await explain(
			waitFor("the trigger's first poll", () => polls()[0], POLL_WAIT_MS),
		);
		expect(first.status).toBe(200);
		await sleep(5_000);
		expect(smtp.mails).toEqual([]);
	}, 150_000);

	it(`three workflows, Get Many over ${IDS_PER_RUN.toLocaleString('en')} ids each at the same time on the workers: every id once, few 429s, the budget used`, async () => {
		// A presence change while the workers are busy: the trigger on the main must still report it.
		const changed = watched[0];
		const before = emu.effectivePresence(changed);
		const after =
			before.availability === 'Away'
				? { availability: 'Busy', activity: 'InACall' }
				: { availability: 'Away', activity: 'Away' };
		emu.setPresence(changed, after);
		mailsExpected.push({ id: changed, availability: after.availability, at: Date.now() });

		const fleetStart = Date.now();
		const settled = await Promise.allSettled(
			runIds.map(async (ids, run) => {
				const response = await fetch(`${main!.url}/webhook/who-is-free-${run + 1}`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ ids }),
					signal: AbortSignal.timeout(600_000),
				});
				const text = await response.text();
				if (!response.ok)
					throw new Error(`run ${run + 1}: HTTP ${response.status} ${text.slice(0, 1000)}`);
				const executionId = response.headers.get('x-n8n-execution-id') ?? '';
				return {
					items: JSON.parse(text) as Array<Record<string, unknown>>,
					seconds: (Date.now() - fleetStart) / 1000,
					executionId,
				};
			}),
		);
		const answers = settled.map((outcome) =>
			outcome.status === 'fulfilled' ? outcome.value : undefined,
		);
		const usedWorkers = new Set(
			answers.map((answer) => (answer ? workerOf(answer.executionId) : -1)),
		);

		// The app's requests while the three ran, from the emulator's log (the trigger's polls included: same app).
		const fleet = emu
			.requests(PRESENCES)
			.filter(
				(entry) => entry.method === 'POST' && !entry.batchSubRequest && entry.time >= fleetStart,
			);
		const throttled = fleet.filter((entry) => entry.status === 429).length;
		// Which run each request was for (-1: the trigger's polls), and when each run's Graph requests began and
		// ended (n8n's own work before and after is the rest of the wall time).
		const runOf = new Map(
			runIds.flatMap((ids, run) => ids.map((id) => [id.toLowerCase(), run] as const)),
		);
		const runOfEntry = (entry: LogEntry) =>
			runOf.get(String((entry.body as { ids: string[] }).ids[0]).toLowerCase()) ?? -1;
		const admittedTimes = fleet
			.filter((entry) => entry.status === 200)
			.map((entry) => entry.time)
			.sort((a, b) => a - b);
		let maxInWindow = 0;
		for (let i = 0, j = 0; i < admittedTimes.length; i++) {
			while (admittedTimes[i] - admittedTimes[j] >= BUDGET.windowMs) j++;
			maxInWindow = Math.max(maxInWindow, i - j + 1);
		}
		// The budget used: the runs' admitted requests over the time from their first to their last request.
		const runTimes = fleet
			.filter((entry) => entry.status === 200 && runOfEntry(entry) >= 0)
			.map((entry) => entry.time);
		const admitted = runTimes.length;
		const spanMs = Math.max(...runTimes) - Math.min(...runTimes);
		const graphSeconds = runIds.map((_, run) => {
			const times = fleet
				.filter((entry) => runOfEntry(entry) === run)
				.map((entry) => entry.time - fleetStart);
			return times.length === 0
				? []
				: [
						Number((Math.min(...times) / 1000).toFixed(1)),
						Number((Math.max(...times) / 1000).toFixed(1)),
					];
		});
		// Graph's sliding window admits at most `limit` per window: n requests need (⌈n / limit⌉ − 1) windows at best.
		const boundMs = (Math.ceil(admitted / BUDGET.limit) - 1) * BUDGET.windowMs;
		figures = {
			runs: RUNS,
			idsPerRun: IDS_PER_RUN,
			workers: WORKERS,
			budget: `${BUDGET.limit} requests per ${BUDGET.windowMs / 1000} s`,
			requests: fleet.length,
			throttled,
			throttledShare: Number((throttled / fleet.length).toFixed(4)),
			admitted,
			spanSeconds: Number((spanMs / 1000).toFixed(1)),
			throughputOfBudget: Number((admitted / (spanMs / BUDGET.windowMs) / BUDGET.limit).toFixed(3)),
			boundSeconds: boundMs / 1000,
			wallSeconds: answers.map((answer) => (answer ? Number(answer.seconds.toFixed(1)) : -1)),
			graphSeconds,
			workersUsed: usedWorkers.size,
			maxAdmittedInAnyWindow: maxInWindow,
		};
		mkdirSync(RESULTS, { recursive: true });
		const timeline = fleet.map((entry) => ({
			ms: entry.time - fleetStart,
			status: entry.status,
			run: runOfEntry(entry) + 1,
		}));
		const machine = {
			cores: cpus().length,
			loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
		};
		writeFileSync(
			join(RESULTS, 'queue.json'),
			`${JSON.stringify({ ...figures, line: `${LINE.label} ${LINE.version}`, at: new Date().toISOString(), machine, timeline })}\n`,
		);
		process.stderr.write(`[n8n-e2e] queue-mode fleet figures: ${JSON.stringify(figures)}\n`);

		// Every run answered; every id exactly once in each answer, nothing else, each with a presence (none failed,
		// none unknown).
		const failures = settled.flatMap((outcome) =>
			outcome.status === 'rejected' ? [String(outcome.reason)] : [],
		);
		if (failures.length > 0) throw new Error(`${failures.join('\n')}\n${await diagnostics()}`);
		answers.forEach((answer, run) => {
			const items = answer?.items ?? [];
			expect(items).toHaveLength(IDS_PER_RUN);
			const seen = new Set(items.map((item) => String(item.id).toLowerCase()));
			expect(seen.size).toBe(IDS_PER_RUN);
			for (const id of runIds[run]) expect(seen.has(id.toLowerCase())).toBe(true);
			expect(
				items.filter((item) => typeof item.availability !== 'string' || item.error !== undefined),
			).toEqual([]);
		});

		// The executions ran on the workers, more than one of them.
		expect(usedWorkers.has(-1)).toBe(false);
		expect(usedWorkers.size).toBeGreaterThanOrEqual(2);

		// Graph never admitted more than the budget in any window, and all the work was done. The targets (429s at
		// most 2 % of requests, at least 85 % of the budget) are figures to report, not assertions: they depend on
		// the machine (see the README's "Running at scale").
		expect(maxInWindow).toBeLessThanOrEqual(BUDGET.limit);
		expect(admitted).toBeGreaterThanOrEqual(RUNS * Math.ceil(IDS_PER_RUN / 650));
	}, 900_000);

	it('the trigger on the main fired once for the change made while the workers were busy, and Send Email ran on a worker', async () => {
		const [mail] = await explain(smtp.waitForMails(1, POLL_WAIT_MS));
		expectMail(mail, mailsExpected[0]);

		// One more change after the fleet is done: the next poll reports exactly it.
		const changed = watched[1];
		const before = emu.effectivePresence(changed);
		const after =
			before.availability === 'DoNotDisturb'
				? { availability: 'Available', activity: 'Available' }
				: { availability: 'DoNotDisturb', activity: 'Presenting' };
		emu.setPresence(changed, after);
		mailsExpected.push({ id: changed, availability: after.availability, at: Date.now() });
		const mails = await explain(smtp.waitForMails(2, POLL_WAIT_MS));
		expectMail(mails[1], mailsExpected[1]);

		// The poll after that one sends nothing more: once per change.
		const last = mails[1].receivedAt;
		await explain(
			waitFor(
				'the poll after the second mail',
				() => polls().find((entry) => entry.time > last + 1000),
				POLL_WAIT_MS,
			),
		);
		await sleep(6_000);
		expect(smtp.mails).toHaveLength(2);

		const runs: ExecutionSummary[] = await explain(
			waitFor(
				'both trigger executions to finish',
				async () => {
					const list = await executions(TRIGGER_WORKFLOW);
					return list.length === 2 && list.every((run) => run.status === 'success')
						? list
						: undefined;
				},
				30_000,
				1_000,
			),
		);
		for (const run of runs) {
			expect(run.mode).toBe('trigger');
			expect(workerOf(run.id)).toBeGreaterThanOrEqual(0);
		}
		// The executions named in the mails are the ones the workers ran.
		for (const sent of smtp.mails)
			expect(runs.map((run) => run.id)).toContain(/Execution (\d+)\./.exec(sent.text)?.[1]);
	}, 400_000);

	it('prints no secret: not in any n8n log, not in the mails', () => {
		const secrets = secretsOf(emu, app);
		expect(emu.tokensIssued.length).toBeGreaterThanOrEqual(1);
		const logs = [
			main?.output() ?? '',
			...workers.map((worker) => worker.output()),
			...session.transcripts,
			...smtp.mails.map((mail) => mail.raw),
		];
		expect(findSecrets(logs.join('\n'), secrets)).toEqual([]);
	});
});

function expectMail(
	mail: ReceivedMail,
	expected: { id: string; availability: string; at: number },
): void {
	expect(mail.subject).toBe(`${expected.id} is now ${expected.availability}`);
	expect(mail.receivedAt).toBeGreaterThan(expected.at);
}
