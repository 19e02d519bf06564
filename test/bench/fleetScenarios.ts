/**
 * The fleet scenarios of issues 17 and 18, shared by `npm run bench:fleet` (test/bench/fleet.ts) and the unit tests
 * (test/unit/rateLimiter.test.ts): who runs which Get Many where and when, and the measures taken from one run of
 * the simulation (test/bench/fleetSim.ts).
 */
import { simulateFleet, windowFloorMs, type FleetOptions, type FleetRun } from './fleetSim';

export const WINDOW_MS = 30_000;
export const IDS_PER_REQUEST = 650;
const CONCURRENCY = 8;

/** How the runs are laid out over n8n processes. */
export interface Topology {
	name: string;
	processes: number;
	/** The process each run lands on, by run index. */
	processOf: (run: number) => number;
}

export const TOPOLOGIES = {
	/** The queue e2e of version 0.1: three workers, one execution each. */
	threeByOne: { name: '3 workers × 1', processes: 3, processOf: (run) => run },
	/** Issue 18: `n8n worker --concurrency=2` twice, three runs: one worker runs two of them. */
	twoByTwo: { name: '2 workers × 2', processes: 2, processOf: (run) => run % 2 },
	one: { name: '1 process', processes: 1, processOf: () => 0 },
} satisfies Record<string, Topology>;

export interface Scenario {
	name: string;
	topology: Topology;
	runs: number;
	idsPerRun: number;
	limit: number;
	/** Run i starts at i × stagger. */
	staggerMs: number;
	latencyMs: number;
}

function scenario(
	topology: Topology,
	runs: number,
	idsPerRun: number,
	limit: number,
	staggerMs = 0,
	latencyMs = 50,
): Scenario {
	const ids =
		idsPerRun >= 1_000_000 ? `${idsPerRun / 1_000_000}M` : `${(idsPerRun / 1000).toFixed(0)}k`;
	const start = staggerMs === 0 ? 'together' : `${staggerMs / 1000} s apart`;
	const slow = latencyMs === 50 ? '' : `, answers in ${latencyMs} ms`;
	return {
		name: `${topology.name}, ${runs} × ${ids} ids, budget ${limit.toLocaleString('en')}, ${start}${slow}`,
		topology,
		runs,
		idsPerRun,
		limit,
		staggerMs,
		latencyMs,
	};
}

const { threeByOne, twoByTwo, one } = TOPOLOGIES;

/**
 * Loads from half a window of budget to several windows: at budget 200 (the queue e2e's scale), 3 × 22,000 ids is
 * 102 requests (half a window), 3 × 60,000 is 279 (1.4 windows), 3 × 100,000 is 462 (2.3 windows); at Graph's 1,500,
 * 3 × 160,000 is 741 requests, 3 × 1,000,000 is 4,617, 2 × 3,250,000 is 10,000 (6.7 windows).
 */
export const SCENARIOS: Scenario[] = [
	scenario(threeByOne, 3, 22_000, 200),
	scenario(threeByOne, 3, 60_000, 200),
	scenario(threeByOne, 3, 100_000, 200),
	scenario(twoByTwo, 3, 22_000, 200),
	scenario(twoByTwo, 3, 60_000, 200),
	scenario(twoByTwo, 3, 100_000, 200),
	scenario(twoByTwo, 4, 60_000, 200),
	scenario(twoByTwo, 4, 100_000, 200),
	scenario(threeByOne, 3, 60_000, 200, 20_000),
	scenario(threeByOne, 3, 100_000, 200, 20_000),
	scenario(twoByTwo, 3, 100_000, 200, 20_000),
	// The queue e2e's staggered phase as it ran (test/e2e/results/queue.json): answers through n8n slower than the
	// emulator's 50 ms, so the first run spreads over many seconds and the late one idles after its first 429.
	scenario(twoByTwo, 3, 100_000, 200, 20_000, 150),
	scenario(twoByTwo, 4, 100_000, 200, 10_000),
	scenario(threeByOne, 3, 100_000, 200, 4_000, 500),
	scenario(threeByOne, 3, 160_000, 1500),
	scenario(threeByOne, 3, 1_000_000, 1500),
	scenario(twoByTwo, 3, 1_000_000, 1500),
	scenario(threeByOne, 3, 1_000_000, 1500, 20_000),
	scenario(twoByTwo, 3, 1_000_000, 1500, 20_000),
	scenario({ ...twoByTwo, name: '2 workers × 1' }, 2, 3_250_000, 1500),
	scenario(one, 1, 65_000, 200),
	scenario(one, 1, 100_000, 200),
	scenario(one, 2, 100_000, 200),
	scenario(one, 1, 1_000_000, 1500),
];

export function fleetRuns(s: Scenario): FleetRun[] {
	const requests = Math.ceil(s.idsPerRun / IDS_PER_REQUEST);
	return Array.from({ length: s.runs }, (_, run) => ({
		process: s.topology.processOf(run),
		requests,
		startAt: run * s.staggerMs,
	}));
}

/** How a scenario is run: the limiter (or the real one's tuning), and the ceiling each execution asks for. */
export type FleetChoice = Pick<FleetOptions, 'limiter' | 'tuning' | 'coordinated'> & {
	/** Max Requests per 30 Seconds from the app's budget and the number of processes; default the budget. */
	ceiling?: (limit: number, processes: number) => number;
};

export function fleetOptions(s: Scenario, choice: FleetChoice = {}): FleetOptions {
	const { ceiling, ...rest } = choice;
	return {
		processes: s.topology.processes,
		runs: fleetRuns(s),
		limit: s.limit,
		windowMs: WINDOW_MS,
		ceiling: ceiling?.(s.limit, s.topology.processes) ?? s.limit,
		concurrency: CONCURRENCY,
		latencyMs: s.latencyMs,
		...rest,
	};
}

export interface Measures {
	requests: number;
	admitted: number;
	throttled: number;
	throttledShare: number;
	spanMs: number;
	/** Admitted per window over the span, over the budget. */
	rateOfCap: number;
	/** The span with perfect coordination (one exact sliding window for the whole fleet): the fastest possible. */
	floorMs: number;
	/** The rate the coordinated fleet reaches, over the cap's (under 1 where the runs arrive slower than the cap). */
	floorRateOfCap: number;
	/** `(⌈admitted / limit⌉ − 1)` windows: the sliding window's own bound for requests started together. */
	windowFloorMs: number;
	spanOverFloor: number;
	/** The span the targets allow: 1.25 × the floor, plus one answer's latency. */
	allowedSpanMs: number;
	/** Per run, seconds from its start to its last answer. */
	runSeconds: number[];
	/** Per run, when its last answer came (ms from the first start). */
	runFinishedMs: number[];
	mostRetries: number;
	peakInWindow: number;
	/** ≥ 90 % of the cap's rate where the coordinated fleet reaches it, span within the allowance, ≤ 2 % 429s. */
	meetsTarget: boolean;
}

export function measure(
	s: Scenario,
	choice: FleetChoice = {},
	floor = simulateFleet(fleetOptions(s, { coordinated: true })),
): Measures {
	const result = simulateFleet(fleetOptions(s, choice));
	const throttledShare = result.throttled / result.requests;
	const windowFloor = windowFloorMs(result.admitted, s.limit, WINDOW_MS);
	const allowedSpanMs = 1.25 * floor.spanMs + s.latencyMs;
	// Where even perfect coordination cannot keep the cap busy (loads arriving slower than the cap), the rate
	// target is 90 % of what it reaches.
	const rateTarget = 0.9 * Math.min(1, floor.rateOfCap);
	return {
		requests: result.requests,
		admitted: result.admitted,
		throttled: result.throttled,
		throttledShare,
		spanMs: result.spanMs,
		rateOfCap: result.rateOfCap,
		floorMs: floor.spanMs,
		floorRateOfCap: floor.rateOfCap,
		windowFloorMs: windowFloor,
		spanOverFloor: result.spanMs / floor.spanMs,
		allowedSpanMs,
		runSeconds: result.runs.map((run) => (run.finishedAt - run.startedAt) / 1000),
		runFinishedMs: result.runs.map((run) => run.finishedAt),
		mostRetries: result.mostRetries,
		peakInWindow: result.peakInWindow,
		meetsTarget:
			throttledShare <= 0.02 &&
			result.rateOfCap >= rateTarget &&
			result.spanMs <= allowedSpanMs &&
			result.admitted === fleetRuns(s).reduce((sum, run) => sum + run.requests, 0),
	};
}

/**
 * Beyond the issues' scenarios: 80 generated ones (deterministic), 1 to 5 processes, 1 to 6 runs placed on them,
 * 30,000 to 1,000,000 ids per run, budgets 200, 500 and 1,500, answers in 50 to 500 ms, runs starting together or
 * 3 to 30 s apart, to see where a rate control breaks outside the cases it was tuned on.
 */
export function generatedScenarios(count = 80): Scenario[] {
	let seed = 12345;
	const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
	const pick = <T>(values: T[]): T => values[Math.floor(next() * values.length)];
	return Array.from({ length: count }, (_, index) => {
		const processes = pick([1, 2, 2, 3, 3, 4, 5]);
		const runs = Math.max(processes, pick([1, 2, 3, 4, 6]));
		const placed = Array.from({ length: runs }, (_, run) =>
			run < processes ? run : Math.floor(next() * processes),
		);
		const limit = pick([200, 500, 1500]);
		const idsPerRun = pick([30_000, 60_000, 100_000, 200_000, 500_000, 1_000_000]);
		const latencyMs = pick([50, 50, 150, 300, 500]);
		const staggerMs = pick([0, 0, 3000, 10_000, 20_000, 30_000]);
		return {
			name: `#${index}: ${processes} processes, ${runs} runs × ${idsPerRun / 1000}k ids, budget ${limit}, ${latencyMs} ms, ${staggerMs / 1000} s apart`,
			topology: { name: `${processes} processes`, processes, processOf: (run) => placed[run] },
			runs,
			idsPerRun,
			limit,
			staggerMs,
			latencyMs,
		};
	});
}
