/**
 * `npm run bench:fleet`: the rate-control options for several n8n processes sharing one app's Graph budget,
 * compared in virtual time (test/bench/fleetSim.ts: the real RateLimiter in each process, Graph as a sliding window
 * answering 429 with Retry-After, 50 ms per request, 8 requests in flight per process). Deterministic: the same
 * table on any machine. Writes test/bench/results/fleet.md; the chosen option is proven in n8n's queue mode by
 * test/e2e/queue.e2e.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_TUNING, type LimiterTuning } from '../../nodes/shared/throttle/rateLimiter';
import { simulateFleet } from './fleetSim';

interface Option {
	name: string;
	tuning: LimiterTuning;
	/** The ceiling each process is given, from the app's budget and the number of processes. */
	ceiling: (limit: number, processes: number) => number;
}

const OPTIONS: Option[] = [
	{
		name: 'per-process window (version 0.1)',
		tuning: { ...DEFAULT_TUNING, adaptive: false, burstFraction: 1 },
		ceiling: (limit) => limit,
	},
	{
		name: 'static split (budget ÷ processes, set by hand)',
		tuning: { ...DEFAULT_TUNING, adaptive: false, burstFraction: 1 },
		ceiling: (limit, processes) => Math.floor(limit / processes),
	},
	{
		name: 'paced, not adaptive',
		tuning: { ...DEFAULT_TUNING, adaptive: false },
		ceiling: (limit) => limit,
	},
	{ name: '**adaptive share (chosen)**', tuning: DEFAULT_TUNING, ceiling: (limit) => limit },
];

interface Scenario {
	name: string;
	processes: number;
	requestsEach: number;
	limit: number;
	stagger: number;
	latencyMs?: number;
}

const SCENARIOS: Scenario[] = [
	{
		name: '3 workers at once, 100,000 ids each, budget 200 / 30 s (the queue-mode e2e)',
		processes: 3,
		requestsEach: 154,
		limit: 200,
		stagger: 0,
	},
	{
		name: 'the same, answers taking 500 ms (a loaded machine), starts 4 s apart',
		processes: 3,
		requestsEach: 154,
		limit: 200,
		stagger: 4000,
		latencyMs: 500,
	},
	{
		name: '3 workers at once, 1,000,000 ids each, budget 1,500 / 30 s',
		processes: 3,
		requestsEach: 1539,
		limit: 1500,
		stagger: 0,
	},
	{
		name: '3 workers starting 20 s apart, 1,000,000 ids each',
		processes: 3,
		requestsEach: 1539,
		limit: 1500,
		stagger: 20_000,
	},
	{
		name: '2 workers, 3,250,000 ids each',
		processes: 2,
		requestsEach: 5000,
		limit: 1500,
		stagger: 0,
	},
	{
		name: 'one process alone, 1,000,000 ids',
		processes: 1,
		requestsEach: 1539,
		limit: 1500,
		stagger: 0,
	},
];

const rows: string[] = [];
for (const scenario of SCENARIOS) {
	for (const option of OPTIONS) {
		const result = simulateFleet({
			processes: scenario.processes,
			requestsEach: scenario.requestsEach,
			limit: scenario.limit,
			windowMs: 30_000,
			ceiling: option.ceiling(scenario.limit, scenario.processes),
			concurrency: 8,
			latencyMs: scenario.latencyMs ?? 50,
			startAt: (p) => p * scenario.stagger,
			tuning: option.tuning,
		});
		rows.push(
			`| ${scenario.name} | ${option.name} | ${result.requests.toLocaleString('en')} | ${result.throttled} | ${((100 * result.throttled) / result.requests).toFixed(2)} % | ` +
				`${(100 * result.throughput).toFixed(0)} % | ${(Math.max(...result.finishedAt) / 1000).toFixed(0)} s |`,
		);
	}
}

const markdown = [
	'# Rate control for a fleet sharing one app',
	'',
	'Virtual time (test/bench/fleetSim.ts): each process runs the real `RateLimiter` with 8 requests in flight; Graph is a sliding window of the budget that answers 429 with `Retry-After` (whole seconds until a slot frees); 50 ms per request. Throughput is the admitted requests per 30 s over the run, as a share of the budget (above 100 % when a run fits in little more than one window).',
	'',
	'| scenario | option | requests | 429s | 429 share | throughput of budget | last finishes |',
	'|---|---|---:|---:|---:|---:|---:|',
	...rows,
	'',
].join('\n');
const out = join(__dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'fleet.md'), markdown);
process.stdout.write(markdown);
