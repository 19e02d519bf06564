/**
 * n8n's queue mode, as an admin scales out: PostgreSQL and Redis (Debian's packages, started here), one main
 * (`n8n start`, which runs the triggers) and two workers (`n8n worker --concurrency=2`, so a worker runs two
 * executions at once, sharing its process and so its rate limiter), all n8n 2.41.1 from npm with the packed tarball
 * in each one's `.n8n/nodes`.
 *
 * Graph's presence budget belongs to the app, not to a process. The emulator throttles each Entra app at 200
 * requests per 30 s — Graph's 1,500 scaled down so that runs of 100,000 ids (154 requests each) need the budget for
 * several windows — and every Get Many says `Max Requests per 30 Seconds: 200`, as a user would after lowering the
 * budget for their app. Each worker's limiter alone would allow 200: two would spend 400.
 *
 * What is checked, in two phases with one app each (so that each starts with fresh limiters, as after a deploy):
 * - together: four webhook-started workflows, each Get Many over 60,000 different ids, at the same moment, two on
 *   each worker (372 requests, the sliding window's floor is 30 s; issue 18);
 * - staggered: three more over 100,000 ids each, 20 s apart (462 requests; issue 17's worker that joins late);
 * - in both: every id comes back exactly once in each answer, the runs ran on the workers, and Graph never admitted
 *   more than the budget in any window. The 429 share, the busy span, the rate against the cap and the span over the
 *   floor (a perfectly coordinated fleet for these runs as they arrived, test/bench/fleetSim.ts) are reported (stderr
 *   and test/e2e/results/queue.json), not asserted: they are performance figures and depend on the machine.
 * - the polling Presence Trigger, active on the main, sends one mail per presence change while the workers are busy,
 *   and its downstream node (Send Email) runs on a worker.
 */
import { mkdirSync, writeFileSync } from 'fs';
import { cpus, loadavg } from 'os';
import { join } from 'path';

import { simulateFleet, windowFloorMs } from '../bench/fleetSim';
import { GraphEmulator, type LogEntry } from '../emulator';
import {
	appSecretData,
	findSecrets,
	registerApp,
	secretsOf,
	type TestApp,
} from '../shared/graphApp';
import {
	copyUserFolderNodes,
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
import { queueModeEnv, startPostgres, startRedis, type LocalService } from './fixtures/services';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './fixtures/smtpSink';
import { presenceMailWorkflow, smtpCredentialRecord } from './fixtures/triggerWorkflows';
import { APP_CREDENTIAL_TYPE, graphCredentialRecord } from './fixtures/n8nJson';

const LINE = N8N_LINES.v2;
const BUDGET = { limit: 200, windowMs: 30_000 };
const WORKERS = 2;
const WORKER_CONCURRENCY = 2;
/**
 * The two phases: how many runs of how many ids, how far apart they start, and the app each phase's workflows use.
 * Together: issue 18's short load, where start-up pacing decides (372 requests, floor 30 s). Staggered: issue 17's
 * worker that joins a busy fleet late (462 requests).
 */
const PHASES = {
	together: { runs: 4, idsPerRun: 60_000, staggerMs: 0, app: 'a' },
	staggered: { runs: 3, idsPerRun: 100_000, staggerMs: 20_000, app: 'b' },
} as const;
type PhaseName = keyof typeof PHASES;
const PHASE_NAMES = Object.keys(PHASES) as PhaseName[];
const RUNS = PHASE_NAMES.reduce((sum, name) => sum + PHASES[name].runs, 0);
/** The second app's credential (n8n ids are 16 alphanumerics). */
const APP_B_CREDENTIAL = { id: 'msgpCredAppB0001', name: 'Graph app B (client secret)' };
const LATENCY_MS = 50;
const PRESENCES = '/communications/getPresencesByUserId';
const TRIGGER_WORKFLOW = 'msgpWfQueueTrig1';
/** Workflow of run `run` (1-based, over both phases). */
const fleetId = (run: number) => `msgpWfQueueRun0${run}`;
/** The runs of a phase, numbered 1… across both phases (one workflow each). */
function phaseRuns(phase: PhaseName): number[] {
	const before = PHASE_NAMES.slice(0, PHASE_NAMES.indexOf(phase)).reduce(
		(sum, name) => sum + PHASES[name].runs,
		0,
	);
	return Array.from({ length: PHASES[phase].runs }, (_, index) => before + index + 1);
}
const OWNER = { email: 'owner@example.test', password: 'E2e-Queue-Passw0rd' };
const POLL_WAIT_MS = 100_000;
const RESULTS = join(__dirname, 'results');

interface FleetFigures {
	phase: PhaseName;
	runs: number;
	idsPerRun: number;
	requestsPerRun: number;
	workers: number;
	workerConcurrency: number;
	staggerSeconds: number;
	budget: string;
	/** The phase's app: its requests, 429s and admitted requests (the trigger's polls use the first app). */
	requests: number;
	throttled: number;
	throttledShare: number;
	/** The runs' requests Graph answered with presences. */
	admitted: number;
	/** From the runs' first request to their last. */
	spanSeconds: number;
	/** Admitted requests per 30 s over the span, over the budget. */
	rateOfCap: number;
	/** (⌈admitted / limit⌉ − 1) windows: the sliding window's bound for requests that all wait at the start. */
	windowFloorSeconds: number;
	/**
	 * The span of a perfectly coordinated fleet for these runs as they arrived (each from its first request, 8 slots,
	 * the emulator's latency): the fastest Graph's sliding window allows them.
	 */
	floorSeconds: number;
	spanOverFloor: number;
	wallSeconds: number[];
	/** Per run: seconds from the phase's start to its first and to its last Graph request. */
	graphSeconds: number[][];
	/** Per run: the worker (1-based) that ran it. */
	workerOfRun: number[];
	maxAdmittedInAnyWindow: number;
}

describe(`${LINE.label} ${LINE.version} in queue mode: a main, ${WORKERS} workers × ${WORKER_CONCURRENCY}, PostgreSQL and Redis`, () => {
	let pg: LocalService;
	let redis: LocalService;
	let emu: GraphEmulator;
	let app: TestApp;
	let appB: TestApp;
	let smtp: SmtpSink;
	let main: RunningN8n | undefined;
	const workers: RunningN8n[] = [];
	const folders: string[] = [];
	let session: N8nCliSession;
	let cookie: string;
	let started = 0;
	let watched: string[];
	/** Ids of the users the runs ask for: run i of a phase takes the i-th slice (the phases' apps differ). */
	let userIds: string[];
	const idsOf = (phase: PhaseName, index: number): string[] =>
		userIds.slice(index * PHASES[phase].idsPerRun, (index + 1) * PHASES[phase].idsPerRun);
	const figures: Partial<Record<PhaseName, FleetFigures>> = {};
	const timelines: Partial<Record<PhaseName, Array<{ ms: number; status: number; run: number }>>> =
		{};
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
		const users = Math.max(
			...PHASE_NAMES.map((name) => PHASES[name].runs * PHASES[name].idsPerRun),
		);
		emu.addUsers(users + 10);
		app = await registerApp(emu, 'eeeeeeee-0000-4000-8000-0000000000a9');
		appB = await registerApp(emu, 'eeeeeeee-0000-4000-8000-0000000000b9');
		watched = emu.users.slice(users, users + 3).map((user) => user.id);
		userIds = emu.users.slice(0, users).map((user) => user.id);

		const queueEnv: NodeJS.ProcessEnv = {
			...queueModeEnv(pg, redis, 'queue-e2e-encryption-key-9f3b1c7d'),
			// 100,000 ids in a webhook body are about 3.7 MB.
			N8N_PAYLOAD_SIZE_MAX: '64',
			// Two executions turning 100,000 ids into items can hold a worker's event loop for a while on a loaded
			// machine; with Bull's default lock (60 s) such a job was once declared stalled and failed. An admin
			// running executions this big raises it too.
			QUEUE_WORKER_LOCK_DURATION: '300000',
		};
		const mainFolder = await createUserFolder(tarball, 'n8n-e2e-queue-main-');
		folders.push(mainFolder);
		session = new N8nCliSession(install, mainFolder, queueEnv);
		await session.importFile('credentials', [
			graphCredentialRecord('app', appSecretData(emu, app)),
			{ ...APP_B_CREDENTIAL, type: APP_CREDENTIAL_TYPE, data: appSecretData(emu, appB) },
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
			...PHASE_NAMES.flatMap((phase) =>
				phaseRuns(phase).map((run) =>
					fleetWorkflow({
						id: fleetId(run),
						name: `Who is free ${run} (${phase})`,
						path: `who-is-free-${run}`,
						webhookId: `5f0c7a52-0000-4000-8000-00000000000${run}`,
						maxRequestsPer30Seconds: BUDGET.limit,
						...(PHASES[phase].app === 'b'
							? { credentials: { [APP_CREDENTIAL_TYPE]: APP_B_CREDENTIAL } }
							: {}),
					}),
				),
			),
		]);
		for (const id of [
			TRIGGER_WORKFLOW,
			...Array.from({ length: RUNS }, (_, run) => fleetId(run + 1)),
		])
			await session.cli(['publish:workflow', `--id=${id}`]);

		// Each worker has its own user folder with the package installed, as on its own machine.
		const workerFolders = Array.from({ length: WORKERS }, (_, index) => {
			const folder = copyUserFolderNodes(mainFolder, `n8n-e2e-queue-worker${index + 1}-`);
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
		for (const phase of PHASE_NAMES)
			if (figures[phase])
				process.stderr.write(
					`[n8n-e2e] queue-mode fleet figures, ${phase}: ${JSON.stringify(figures[phase])}\n`,
				);
	});

	it('the main is the leader and runs the trigger: its first poll records a baseline silently', async () => {
		const first = await explain(
			waitFor("the trigger's first poll", () => polls()[0], POLL_WAIT_MS),
		);
		expect(first.status).toBe(200);
		await sleep(5_000);
		expect(smtp.mails).toEqual([]);
	}, 150_000);

	/**
	 * Calls a phase's webhooks (run i after i × stagger), checks every answer, and measures the phase from the
	 * emulator's log: only the phase's app, only from its first call on.
	 */
	async function runPhase(phase: PhaseName): Promise<FleetFigures> {
		const { staggerMs, idsPerRun, app: which } = PHASES[phase];
		const requestsPerRun = Math.ceil(idsPerRun / 650);
		const runs = phaseRuns(phase);
		const clientId = (which === 'a' ? app : appB).clientId.toLowerCase();
		const phaseStart = Date.now();
		const settled = await Promise.allSettled(
			runs.map(async (run, index) => {
				await sleep(index * staggerMs);
				const calledAt = Date.now();
				const response = await fetch(`${main!.url}/webhook/who-is-free-${run}`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ ids: idsOf(phase, index) }),
					signal: AbortSignal.timeout(600_000),
				});
				const text = await response.text();
				if (!response.ok)
					throw new Error(`run ${run}: HTTP ${response.status} ${text.slice(0, 1000)}`);
				return {
					items: JSON.parse(text) as Array<Record<string, unknown>>,
					seconds: (Date.now() - calledAt) / 1000,
					executionId: response.headers.get('x-n8n-execution-id') ?? '',
				};
			}),
		);
		const answers = settled.map((outcome) =>
			outcome.status === 'fulfilled' ? outcome.value : undefined,
		);
		const workerOfRun = answers.map((answer) => (answer ? workerOf(answer.executionId) : -1));

		// The phase's requests to its app (the trigger's polls use the first app: they count for `together`).
		const fleet = emu
			.requests(PRESENCES)
			.filter(
				(entry) =>
					entry.method === 'POST' &&
					!entry.batchSubRequest &&
					entry.time >= phaseStart &&
					(entry.clientId ?? '').toLowerCase() === clientId,
			);
		const throttled = fleet.filter((entry) => entry.status === 429).length;
		// Which run each request was for (-1: the trigger's polls).
		const runOf = new Map(
			runs.flatMap((_, index) =>
				idsOf(phase, index).map((id) => [id.toLowerCase(), index] as const),
			),
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
		const runTimes = fleet
			.filter((entry) => entry.status === 200 && runOfEntry(entry) >= 0)
			.map((entry) => entry.time);
		const admitted = runTimes.length;
		const first = Math.min(...runTimes);
		const spanMs = Math.max(...runTimes) - first;
		const graphTimes = runs.map((_, index) =>
			fleet.filter((entry) => runOfEntry(entry) === index).map((entry) => entry.time),
		);
		// The floor: these runs as they arrived (each from its first request), perfectly coordinated.
		const floor = simulateFleet({
			processes: 1,
			runs: graphTimes.map((times) => ({
				process: 0,
				requests: requestsPerRun,
				startAt: times.length > 0 ? Math.min(...times) - first : 0,
			})),
			limit: BUDGET.limit,
			windowMs: BUDGET.windowMs,
			ceiling: BUDGET.limit,
			concurrency: 8,
			latencyMs: LATENCY_MS,
			coordinated: true,
		});
		// The span is measured between requests here (the emulator logs arrivals), the floor to the last answer.
		const floorMs = floor.spanMs - LATENCY_MS;
		const result: FleetFigures = {
			phase,
			runs: runs.length,
			idsPerRun,
			requestsPerRun,
			workers: WORKERS,
			workerConcurrency: WORKER_CONCURRENCY,
			staggerSeconds: staggerMs / 1000,
			budget: `${BUDGET.limit} requests per ${BUDGET.windowMs / 1000} s`,
			requests: fleet.length,
			throttled,
			throttledShare: Number((throttled / fleet.length).toFixed(4)),
			admitted,
			spanSeconds: Number((spanMs / 1000).toFixed(1)),
			rateOfCap: Number((admitted / (spanMs / BUDGET.windowMs) / BUDGET.limit).toFixed(3)),
			windowFloorSeconds: windowFloorMs(admitted, BUDGET.limit, BUDGET.windowMs) / 1000,
			floorSeconds: Number((floorMs / 1000).toFixed(1)),
			spanOverFloor: Number((spanMs / floorMs).toFixed(3)),
			wallSeconds: answers.map((answer) => (answer ? Number(answer.seconds.toFixed(1)) : -1)),
			graphSeconds: graphTimes.map((times) =>
				times.length === 0
					? []
					: [
							Number(((Math.min(...times) - phaseStart) / 1000).toFixed(1)),
							Number(((Math.max(...times) - phaseStart) / 1000).toFixed(1)),
						],
			),
			workerOfRun: workerOfRun.map((worker) => worker + 1),
			maxAdmittedInAnyWindow: maxInWindow,
		};
		figures[phase] = result;
		timelines[phase] = fleet.map((entry) => ({
			ms: entry.time - phaseStart,
			status: entry.status,
			run: runOfEntry(entry) + 1,
		}));
		writeResults();
		process.stderr.write(
			`[n8n-e2e] queue-mode fleet figures, ${phase}: ${JSON.stringify(result)}\n`,
		);

		// Every run answered; every id exactly once in each answer, nothing else, each with a presence (none
		// failed, none unknown).
		const failures = settled.flatMap((outcome) =>
			outcome.status === 'rejected' ? [String(outcome.reason)] : [],
		);
		if (failures.length > 0) throw new Error(`${failures.join('\n')}\n${await diagnostics()}`);
		answers.forEach((answer, index) => {
			const items = answer?.items ?? [];
			expect(items).toHaveLength(idsPerRun);
			const seen = new Set(items.map((item) => String(item.id).toLowerCase()));
			expect(seen.size).toBe(idsPerRun);
			for (const id of idsOf(phase, index)) expect(seen.has(id.toLowerCase())).toBe(true);
			expect(
				items.filter((item) => typeof item.availability !== 'string' || item.error !== undefined),
			).toEqual([]);
		});
		// The executions ran on the workers.
		expect(workerOfRun).not.toContain(-1);
		// Graph never admitted more than the budget in any window, and all the work was done. The targets (429s at
		// most 2 % of requests, at least 90 % of the cap, a span within 1.25 × the floor) are figures to report,
		// not assertions: they depend on the machine (see the README's "Running at scale").
		expect(maxInWindow).toBeLessThanOrEqual(BUDGET.limit);
		expect(admitted).toBeGreaterThanOrEqual(runs.length * requestsPerRun);
		return result;
	}

	function writeResults(): void {
		mkdirSync(RESULTS, { recursive: true });
		const machine = {
			cores: cpus().length,
			loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
		};
		writeFileSync(
			join(RESULTS, 'queue.json'),
			`${JSON.stringify({
				line: `${LINE.label} ${LINE.version}`,
				at: new Date().toISOString(),
				machine,
				phases: PHASE_NAMES.filter((phase) => figures[phase]).map((phase) => ({
					...figures[phase],
					timeline: timelines[phase],
				})),
			})}\n`,
		);
	}

	it(`four workflows at once, two on each worker, Get Many over ${PHASES.together.idsPerRun.toLocaleString('en')} ids each: every id once, the budget never exceeded`, async () => {
		// A presence change while the workers are busy: the trigger on the main must still report it.
		const changed = watched[0];
		const before = emu.effectivePresence(changed);
		const after =
			before.availability === 'Away'
				? { availability: 'Busy', activity: 'InACall' }
				: { availability: 'Away', activity: 'Away' };
		emu.setPresence(changed, after);
		mailsExpected.push({ id: changed, availability: after.availability, at: Date.now() });

		const result = await runPhase('together');
		// Both workers ran executions, and one ran two at once (their Graph requests overlap): they shared its
		// limiter.
		expect(new Set(result.workerOfRun).size).toBe(WORKERS);
		const overlapping = result.graphSeconds.some(([from, to], a) =>
			result.graphSeconds.some(
				([otherFrom, otherTo], b) =>
					b > a &&
					result.workerOfRun[a] === result.workerOfRun[b] &&
					from <= otherTo &&
					otherFrom <= to,
			),
		);
		expect(overlapping).toBe(true);
	}, 900_000);

	it(`three more, ${PHASES.staggered.staggerMs / 1000} s apart, ${PHASES.staggered.idsPerRun.toLocaleString('en')} ids each, on a second app: every id once, the budget never exceeded`, async () => {
		await runPhase('staggered');
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
		const secrets = [...secretsOf(emu, app), ...secretsOf(emu, appB)];
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
