/**
 * `npm run bench`: this node in n8n's engine, the Graph client alone, and what users do without it (n8n's HTTP
 * Request node: one GET per user paced under the throttle, or one POST with every id), side by side against the
 * project's Graph emulator with 50 ms latency and Graph's throttle (1,500 requests per 30 s per app), the emulator
 * in a child process and every case in a fresh worker process. Writes test/bench/results/bench.{md,svg,json}.
 *
 * Options: `--quick` (small sizes, for development), `--only node:100000,client` (some cases; written as
 * bench.quick.*), `--latency <ms>` (default 50). BENCH_WORKER_FLAGS adds node flags to the workers (profiling).
 * Needs `npm run build` (dist/) first; the HTTP Request baselines need n8n 2.41.1 in the e2e cache
 * (`npx tsx test/e2e/install.ts`, or `npm run demo` once), else they are reported as not measured.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

import { TENANT } from '../shared/graphApp';
import { DIST } from '../shared/builtPackage';
import { EmulatorProcess, forkTs, workerChannel } from './processes';
import { boundMs, type Measurement } from './measure';
import { renderMarkdown, renderSvg, type BenchReport, type Machine, type Row } from './report';
import type { CaseKind, CaseOutcome, CaseSpec, CoordinatorMessage, WorkerMessage } from './worker';
import type { LogSummary } from '../emulator/cli';

const quick = process.argv.includes('--quick');
const latencyArg = process.argv.indexOf('--latency');
const LATENCY_MS = latencyArg >= 0 ? Number(process.argv[latencyArg + 1]) : 50;
const CONCURRENCY = 8; // the node's default
const GET_BATCH = { size: 50, intervalMs: 1000 }; // 50 a second = 1,500 per 30 s, the most that stays under the throttle
const MAX_PER_REQUEST = 650;

interface Plan {
	label: string;
	kind: CaseKind;
	ids: number;
	shape: 'itemPerId' | 'oneList';
	heapMb?: number;
	/** Include User Details on (node cases). */
	details?: boolean;
}

const PLAN: Plan[] = quick
	? [
			{ label: 'node', kind: 'node', ids: 650, shape: 'itemPerId' },
			{ label: 'node', kind: 'node', ids: 2000, shape: 'itemPerId' },
			{ label: 'node', kind: 'node', ids: 10_000, shape: 'itemPerId' },
			{ label: 'node, user details', kind: 'node', ids: 2000, shape: 'itemPerId', details: true },
			{ label: 'client alone', kind: 'client', ids: 20_000, shape: 'oneList' },
			{ label: 'client alone', kind: 'client', ids: 130_000, shape: 'oneList' },
			{
				label: 'HTTP Request: one POST with all ids',
				kind: 'httpPost',
				ids: 650,
				shape: 'oneList',
			},
			{
				label: 'HTTP Request: one POST with all ids',
				kind: 'httpPost',
				ids: 2000,
				shape: 'oneList',
			},
			{ label: 'HTTP Request: GET per user, 50/s', kind: 'httpGet', ids: 100, shape: 'itemPerId' },
		]
	: [
			{ label: 'node', kind: 'node', ids: 650, shape: 'itemPerId' },
			{ label: 'node', kind: 'node', ids: 2000, shape: 'itemPerId' },
			{ label: 'node', kind: 'node', ids: 10_000, shape: 'itemPerId' },
			{ label: 'node', kind: 'node', ids: 100_000, shape: 'itemPerId' },
			{ label: 'node, ids as one list', kind: 'node', ids: 100_000, shape: 'oneList' },
			{ label: 'node, user details', kind: 'node', ids: 2000, shape: 'itemPerId', details: true },
			{
				label: 'node, ids as one list, user details',
				kind: 'node',
				ids: 100_000,
				shape: 'oneList',
				details: true,
			},
			{ label: 'client alone', kind: 'client', ids: 1_000_000, shape: 'oneList', heapMb: 8192 },
			{
				label: 'HTTP Request: one POST with all ids',
				kind: 'httpPost',
				ids: 650,
				shape: 'oneList',
			},
			{
				label: 'HTTP Request: one POST with all ids',
				kind: 'httpPost',
				ids: 2000,
				shape: 'oneList',
			},
			{ label: 'HTTP Request: GET per user, 50/s', kind: 'httpGet', ids: 650, shape: 'itemPerId' },
			{ label: 'HTTP Request: GET per user, 50/s', kind: 'httpGet', ids: 2000, shape: 'itemPerId' },
		];

const onlyArg = process.argv.indexOf('--only');
/** `--only client,node:100000`: run only the cases whose kind (or kind:ids) is listed; for development. */
const ONLY = onlyArg >= 0 ? process.argv[onlyArg + 1].split(',') : undefined;
const selected = (plan: Plan): boolean =>
	ONLY === undefined ||
	ONLY.includes(plan.kind) ||
	ONLY.includes(`${plan.kind}:${plan.ids}`) ||
	(plan.details === true && ONLY.includes(`details:${plan.ids}`));

/** Sizes the baselines are computed (not measured) for. */
const EXTRAPOLATE = quick ? [2000, 10_000] : [10_000, 100_000, 1_000_000];

function httpRequestNodeFile(): string | undefined {
	const cache =
		process.env.N8N_E2E_CACHE ?? join(homedir(), '.cache', 'n8n-nodes-msgraph-presence');
	const file = join(
		cache,
		'n8n-2.41.1',
		'node_modules',
		'n8n-nodes-base',
		'dist',
		'nodes',
		'HttpRequest',
		'HttpRequest.node.js',
	);
	return existsSync(file) ? file : undefined;
}

function machine(): Machine {
	let cpuModel = cpus()[0]?.model ?? 'unknown';
	try {
		const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
		if (match) cpuModel = match[1].trim();
	} catch {
		// not Linux: os.cpus() has it
	}
	return {
		cpuModel,
		cores: cpus().length,
		memoryBytes: totalmem(),
		node: process.version,
		date: new Date().toISOString(),
		loadAverageAtStart: loadavg(),
		loadAverageAtEnd: loadavg(),
	};
}

function appId(index: number): string {
	return `bbbbbbbb-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
}

function requestsFor(kind: CaseKind, ids: number): number {
	if (kind === 'httpGet') return ids;
	if (kind === 'httpPost') return 1;
	return Math.ceil(ids / MAX_PER_REQUEST);
}

/**
 * The directory requests in a row that Include User Details adds at least, as the node chooses them
 * (users/userDetails.ts): up to 300 users one batch of filters; more, one to count, then the tenant's list when
 * that is under half the filters (read until every user asked for has been seen: at least ⌈n / 999⌉ pages), else
 * the filters in batches at once.
 */
function detailRequestsInARow(ids: number, tenantUsers: number): number {
	const filters = Math.ceil(ids / 15);
	if (filters <= 20) return 1;
	return 2 * Math.ceil(tenantUsers / 999) < filters ? 1 + Math.ceil(ids / 999) : 2;
}

function concurrencyFor(kind: CaseKind): number {
	if (kind === 'httpGet') return GET_BATCH.size;
	if (kind === 'httpPost') return 1;
	return CONCURRENCY;
}

async function runCase(
	emulator: EmulatorProcess,
	plan: Plan,
	index: number,
	nodeFile: string | undefined,
): Promise<{
	measurement: Measurement | null;
	runWallMs: number;
	error: string | null;
	outcome: CaseOutcome;
	summary: LogSummary;
	gc: boolean;
}> {
	const clientId = appId(index);
	const clientSecret = `bench~secret~${index}~Qx7.w`;
	await emulator.registerApp({ tenantId: TENANT, clientId, clientSecret });
	const ids = await emulator.userIds(0, plan.ids);
	// The warm-up asks for users the measured run does not, through the same app.
	const warmUpIds = await emulator.userIds(
		plan.ids,
		plan.kind === 'httpGet' ? 1 : Math.min(MAX_PER_REQUEST, plan.ids),
	);
	const spec: CaseSpec = {
		kind: plan.kind,
		shape: plan.shape,
		graphBaseUrl: emulator.url,
		loginBaseUrl: emulator.loginBaseUrl,
		tenantId: TENANT,
		clientId,
		clientSecret,
		httpRequestNodeFile: nodeFile,
		httpBatch: GET_BATCH,
		details: plan.details,
	};
	// BENCH_WORKER_FLAGS: extra node flags for the workers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
	const extra = (process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
	const flags = [
		'--expose-gc',
		...(plan.heapMb ? [`--max-old-space-size=${plan.heapMb}`] : []),
		...extra,
	];
	const worker = forkTs(require.resolve('./worker'), flags);
	const { next, send, gone } = workerChannel<WorkerMessage, CoordinatorMessage>(worker);

	send({ type: 'case', spec, ids, warmUpIds });
	const warmed = await next();
	if (warmed.type !== 'warmedUp') throw new Error('expected warmedUp');
	if (warmed.warmUpError && plan.kind !== 'httpPost')
		console.warn(`  warm-up failed: ${warmed.warmUpError}`);
	await emulator.clearLog();
	send({ type: 'go' });
	const done = await next();
	if (done.type !== 'done') throw new Error('expected done');
	// Answers still on the way (none expected) land before the log is read.
	await new Promise((resolve) => setTimeout(resolve, 200));
	const summary = await emulator.summary();
	await gone;
	return {
		measurement: done.measurement,
		runWallMs: done.runWallMs,
		error: done.error,
		outcome: done.outcome,
		summary,
		gc: done.gc,
	};
}

function describeOutcome(
	kind: CaseKind,
	ids: number,
	outcome: CaseOutcome,
	error: string | null,
): string {
	if (error !== null) return `failed: ${error.length > 90 ? `${error.slice(0, 90)}…` : error}`;
	const parts = [
		`${outcome.presences.toLocaleString('en-US')}/${ids.toLocaleString('en-US')} presences`,
	];
	if (outcome.named) parts.push(`${outcome.named.toLocaleString('en-US')} named`);
	if (outcome.notFound) parts.push(`${outcome.notFound} not found`);
	if (outcome.errors) parts.push(`${outcome.errors} errors`);
	if (outcome.duplicates) parts.push(`${outcome.duplicates} duplicates`);
	if (outcome.missing) parts.push(`${outcome.missing} missing`);
	if (kind === 'httpGet' || kind === 'httpPost') parts.push('raw Graph answers');
	return parts.join(', ');
}

/**
 * A copy of dist/ for the workers, inside node_modules (so that n8n-workflow and msal still resolve): a concurrent
 * `npm run build` deletes dist/ first, and a worker starting at that moment would find nothing.
 */
function snapshotDist(): string {
	if (
		!existsSync(join(DIST, 'nodes', 'MicrosoftGraphPresence', 'MicrosoftGraphPresence.node.js'))
	) {
		throw new Error('dist/ is missing or incomplete: run `npm run build` first');
	}
	const snapshot = join(
		__dirname,
		'..',
		'..',
		'node_modules',
		'.cache',
		'msgraph-presence-bench',
		`dist-${process.pid}`,
	);
	cpSync(DIST, snapshot, { recursive: true });
	process.env.BENCH_DIST = snapshot;
	return snapshot;
}

async function main(): Promise<void> {
	const snapshot = snapshotDist();
	try {
		await measureAll();
	} finally {
		rmSync(snapshot, { recursive: true, force: true });
	}
}

async function measureAll(): Promise<void> {
	const nodeFile = httpRequestNodeFile();
	if (nodeFile === undefined) {
		console.warn(
			'n8n 2.41.1 is not in the e2e cache: the HTTP Request baselines are skipped (npx tsx test/e2e/install.ts installs it).',
		);
	}
	const host = machine();
	const maxIds = Math.max(...PLAN.filter(selected).map((plan) => plan.ids)) + MAX_PER_REQUEST;
	console.log(
		`Graph emulator: ${LATENCY_MS} ms latency, 1,500 requests per 30 s per app; ${maxIds.toLocaleString('en-US')} users…`,
	);
	const emulator = await EmulatorProcess.start({ latencyMs: LATENCY_MS, seed: 1 });
	const rows: Row[] = [];
	try {
		await emulator.addUsers(maxIds);
		for (const [index, plan] of PLAN.entries()) {
			if ((plan.kind === 'httpGet' || plan.kind === 'httpPost') && nodeFile === undefined) continue;
			if (!selected(plan)) continue;
			process.stdout.write(`${plan.label}, ${plan.ids.toLocaleString('en-US')} ids… `);
			const run = await runCase(emulator, plan, index, nodeFile);
			const requests = run.summary.graphRequests;
			const bound = boundMs(
				requestsFor(plan.kind, plan.ids),
				concurrencyFor(plan.kind),
				LATENCY_MS,
			);
			if (plan.details) {
				// The user list is read a page after another, beside the presence requests: the bound is the longer.
				const listMs = detailRequestsInARow(plan.ids, maxIds) * LATENCY_MS;
				if (listMs > bound.boundMs) {
					bound.boundMs = listMs;
					bound.latencyBoundMs = listMs;
				}
			}
			const m = run.measurement;
			const wallMs = m?.wallMs ?? run.runWallMs;
			const row: Row = {
				label: plan.label,
				kind: plan.kind,
				shape: plan.shape,
				ids: plan.ids,
				measured: true,
				graphRequests: requests,
				tokenRequests: run.summary.loginRequests,
				status429: run.summary.byStatus['429'] ?? 0,
				status400: run.summary.byStatus['400'] ?? 0,
				maxIn30s: run.summary.maxIn30s,
				wallMs,
				runWallMs: run.runWallMs,
				cpuMs: m ? m.cpuUserMs + m.cpuSystemMs : null,
				heapPeakDelta: m ? m.heapPeak - m.heapBaseline : null,
				rssPeakDelta: m ? m.rssPeak - m.rssBaseline : null,
				heapRetainedDelta: m ? m.heapAfter - m.heapBaseline : null,
				concurrency: concurrencyFor(plan.kind),
				boundMs: bound.boundMs,
				latencyBoundMs: bound.latencyBoundMs,
				throttleBoundMs: bound.throttleBoundMs,
				ratio: wallMs / bound.boundMs,
				emulatorCpuMs: run.summary.emulatorCpuMs,
				result: describeOutcome(plan.kind, plan.ids, run.outcome, run.error),
				ok:
					run.error === null &&
					run.outcome.missing === 0 &&
					run.outcome.duplicates === 0 &&
					run.outcome.errors === 0 &&
					(plan.details !== true || run.outcome.named === run.outcome.presences),
				gc: run.gc,
				clientStats: run.outcome.tally?.clientStats ?? null,
			};
			rows.push(row);
			console.log(
				`${requests} requests${run.summary.batchSubRequests ? ` + ${run.summary.batchSubRequests} sub-requests in $batch` : ''}, ${row.status429} × 429, ${(wallMs / 1000).toFixed(2)} s (bound ${(bound.boundMs / 1000).toFixed(2)} s, ×${row.ratio.toFixed(2)}), CPU ${((row.cpuMs ?? 0) / 1000).toFixed(2)} s, heap +${((row.heapPeakDelta ?? 0) / 1048576).toFixed(0)} MB — ${row.result}`,
			);
		}
	} finally {
		await emulator.stop();
	}

	if (nodeFile !== undefined && ONLY === undefined) {
		for (const ids of EXTRAPOLATE) {
			const get = boundMs(ids, GET_BATCH.size, LATENCY_MS);
			const pacedMs = (Math.ceil(ids / GET_BATCH.size) - 1) * GET_BATCH.intervalMs + LATENCY_MS;
			rows.push({
				label: 'HTTP Request: GET per user, 50/s',
				kind: 'httpGet',
				shape: 'itemPerId',
				ids,
				measured: false,
				graphRequests: ids,
				tokenRequests: 0,
				status429: 0,
				status400: 0,
				maxIn30s: Math.min(ids, 1500),
				wallMs: pacedMs,
				runWallMs: pacedMs,
				cpuMs: null,
				heapPeakDelta: null,
				rssPeakDelta: null,
				heapRetainedDelta: null,
				concurrency: GET_BATCH.size,
				boundMs: get.boundMs,
				latencyBoundMs: get.latencyBoundMs,
				throttleBoundMs: get.throttleBoundMs,
				ratio: pacedMs / get.boundMs,
				emulatorCpuMs: 0,
				result: `computed: (⌈n/50⌉ − 1) × 1 s + ${LATENCY_MS} ms`,
				ok: true,
				gc: false,
				clientStats: null,
			});
			rows.push({
				label: 'HTTP Request: one POST with all ids',
				kind: 'httpPost',
				shape: 'oneList',
				ids,
				measured: false,
				graphRequests: 1,
				tokenRequests: 0,
				status429: 0,
				status400: 1,
				maxIn30s: 1,
				wallMs: LATENCY_MS,
				runWallMs: LATENCY_MS,
				cpuMs: null,
				heapPeakDelta: null,
				rssPeakDelta: null,
				heapRetainedDelta: null,
				concurrency: 1,
				boundMs: LATENCY_MS,
				latencyBoundMs: LATENCY_MS,
				throttleBoundMs: LATENCY_MS,
				ratio: 1,
				emulatorCpuMs: 0,
				result: 'computed: 400 Bad Request (more than 650 ids), nothing read',
				ok: false,
				gc: false,
				clientStats: null,
			});
		}
	}

	host.loadAverageAtEnd = loadavg();
	const report: BenchReport = {
		machine: host,
		latencyMs: LATENCY_MS,
		concurrency: CONCURRENCY,
		getBatch: GET_BATCH,
		quick: quick || ONLY !== undefined,
		rows,
	};
	const dir = join(__dirname, 'results');
	mkdirSync(dir, { recursive: true });
	const suffix = quick || ONLY !== undefined ? '.quick' : '';
	writeFileSync(join(dir, `bench${suffix}.json`), `${JSON.stringify(report, null, '\t')}\n`);
	writeFileSync(join(dir, `bench${suffix}.md`), renderMarkdown(report, `bench${suffix}.svg`));
	writeFileSync(join(dir, `bench${suffix}.svg`), renderSvg(report));
	console.log(`\n${renderMarkdown(report, `bench${suffix}.svg`)}`);
	console.log(`Written: ${join(dir, `bench${suffix}.md`)}, .svg, .json`);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
