/**
 * `npm run bench:fleet`: the rate control of several n8n processes (and several executions per process) sharing one
 * app's Graph budget, measured in virtual time (test/bench/fleetSim.ts) over the scenarios of
 * test/bench/fleetScenarios.ts, for the options compared. Deterministic: the same tables on any machine. Writes
 * test/bench/results/fleet.md; the chosen option is proven in n8n's queue mode by test/e2e/queue.e2e.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_TUNING, RateLimiter } from '../../nodes/shared/throttle/rateLimiter';
import { LegacyRateLimiter } from './fleetLegacy';
import { simulateFleet, type FleetResult } from './fleetSim';
import {
	fleetOptions,
	generatedScenarios,
	measure,
	SCENARIOS,
	type FleetChoice,
	type Measures,
	type Scenario,
} from './fleetScenarios';

interface Option {
	name: string;
	choice: FleetChoice;
}

const window = (tuning: Partial<typeof DEFAULT_TUNING>): FleetChoice => ({
	limiter: (windowMs) => new RateLimiter(windowMs, { ...DEFAULT_TUNING, ...tuning }),
});

const BEFORE: Option = {
	name: 'before (a tenth at once, even pace, 90 % share)',
	choice: { limiter: (windowMs) => new LegacyRateLimiter(windowMs) },
};
const CHOSEN: Option = { name: '**chosen**', choice: { tuning: DEFAULT_TUNING } };
const OPTIONS: Option[] = [
	{
		name: 'a window per process, no share',
		choice: window({ adaptive: false, freshBurst: 1, inFlight: Infinity }),
	},
	{
		name: 'budget ÷ processes, set by hand',
		choice: {
			...window({ adaptive: false, freshBurst: 1, inFlight: Infinity }),
			ceiling: (limit, processes) => Math.floor(limit / processes),
		},
	},
	BEFORE,
	{
		name: 'share from 429s, window repeated, probes; no latency cap',
		choice: window({ inFlight: Infinity }),
	},
	CHOSEN,
	{ name: 'chosen, a tenth at once', choice: window({ freshBurst: 0.1 }) },
	{ name: 'chosen, half at once', choice: window({ freshBurst: 0.5 }) },
	{ name: 'chosen, the whole ceiling at once', choice: window({ freshBurst: 1 }) },
];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (share: number, digits = 0) => `${(100 * share).toFixed(digits)} %`;

const floors = new Map<Scenario, FleetResult>();
const floorOf = (s: Scenario): FleetResult => {
	let floor = floors.get(s);
	if (!floor) {
		floor = simulateFleet(fleetOptions(s, { coordinated: true }));
		floors.set(s, floor);
	}
	return floor;
};
const run = (s: Scenario, option: Option): Measures => measure(s, option.choice, floorOf(s));

/** One line per option over a set of scenarios. */
function summary(scenarios: Scenario[]): string[] {
	const lines = [
		'| option | target met | worst 429 share | scenarios over 2 % 429s | lowest rate vs the cap (runs of 2 windows or more; of the coordinated rate where that is lower) | worst span ÷ allowed |',
		'|---|---:|---:|---:|---:|---:|',
	];
	for (const option of OPTIONS) {
		const all = scenarios.map((s) => ({ s, m: run(s, option) }));
		const long = all.filter(({ m }) => m.windowFloorMs >= 30_000 && m.floorMs > 0);
		lines.push(
			`| ${option.name} | ${all.filter(({ m }) => m.meetsTarget).length} of ${all.length} | ` +
				`${percent(Math.max(...all.map(({ m }) => m.throttledShare)), 2)} | ` +
				`${all.filter(({ m }) => m.throttledShare > 0.02).length} | ` +
				`${percent(Math.min(...long.map(({ m }) => m.rateOfCap / Math.min(1, m.floorRateOfCap))))} | ` +
				`${Math.max(...all.map(({ m }) => m.spanMs / m.allowedSpanMs)).toFixed(2)} |`,
		);
	}
	return lines;
}

function cells(m: Measures): string {
	return (
		`${m.admitted.toLocaleString('en')} | ${m.throttled} | ${percent(m.throttledShare, 2)} | ${seconds(m.spanMs)} | ` +
		`${percent(m.rateOfCap)} | ${m.spanOverFloor.toFixed(2)} | ${m.meetsTarget ? 'yes' : '**no**'}`
	);
}

const detail = [
	'| scenario | floor | before: admitted | 429s | 429 share | busy span | rate vs the cap | span ÷ floor | target | chosen: admitted | 429s | 429 share | busy span | rate vs the cap | span ÷ floor | target |',
	'|---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|:---:|',
	...SCENARIOS.map(
		(s) =>
			`| ${s.name} | ${seconds(floorOf(s).spanMs)} | ${cells(run(s, BEFORE))} | ${cells(run(s, CHOSEN))} |`,
	),
];

/** Runs that share a process: when each finished, to show that none waits for the other. */
const sharing = SCENARIOS.filter((s) => s.topology.name.startsWith('2 workers × 2')).map((s) => {
	const m = run(s, CHOSEN);
	return `| ${s.name} | ${m.runFinishedMs.map((ms, i) => `run ${i + 1} (worker ${s.topology.processOf(i) + 1}): ${seconds(ms)}`).join(', ')} |`;
});

/** The generated scenarios, split where the options differ. */
const generated = generatedScenarios();
const groups: Array<{ name: string; scenarios: Scenario[] }> = [
	{ name: 'up to 3 processes', scenarios: generated.filter((s) => s.topology.processes <= 3) },
	{
		name: '4 or 5 processes, budget 200 or 500',
		scenarios: generated.filter((s) => s.topology.processes >= 4 && s.limit < 1500),
	},
	{
		name: '4 or 5 processes, budget 1,500',
		scenarios: generated.filter((s) => s.topology.processes >= 4 && s.limit === 1500),
	},
];
const generatedRows = groups.flatMap(({ name, scenarios }) =>
	[BEFORE, CHOSEN].map((option) => {
		const ms = scenarios.map((s) => run(s, option));
		const ratios = ms.map((m) => m.spanMs / m.allowedSpanMs).sort((a, b) => a - b);
		return (
			`| ${name} (${scenarios.length}) | ${option.name} | ${ms.filter((m) => m.meetsTarget).length} | ` +
			`${ms.filter((m) => m.throttledShare <= 0.02).length} | ${percent(ms.reduce((sum, m) => sum + m.throttledShare, 0) / ms.length, 2)} | ` +
			`${ratios[ratios.length >> 1].toFixed(2)} |`
		);
	}),
);

const markdown = [
	'# Rate control for a fleet sharing one app',
	'',
	'Virtual time (test/bench/fleetSim.ts): one limiter per n8n process (as `sharedLimiter` gives every execution in a process the same one, with its window 2 % wider than Graph\'s as GraphClient keeps it), each execution a Get Many with 8 request slots of its own that behaves as GraphClient does (a 429 frees the slot; the batch waits `Retry-After` and queues again); Graph is a sliding window of the budget per 30 s that answers 429 with `Retry-After` (whole seconds until a slot frees); 50 ms per answer unless said. "2 workers × 2" is `n8n worker --concurrency=2` twice: with three runs one worker runs two of them.',
	'',
	'- **busy span**: from the first request to the last answer; **rate vs the cap**: admitted requests per 30 s over the span, over the budget (above 100 % when a run fits in little more than one window);',
	'- **floor**: the span of a perfectly coordinated fleet (one exact sliding window for everyone, every slot starting the moment Graph has room): the fastest a 30 s sliding window allows for these runs, starts, slots and latency;',
	"- **target** (issues 17 and 18): at most 2 % 429s, every request admitted once, a span within 1.25 × the floor plus one answer's latency, and at least 90 % of the cap's rate (of the coordinated fleet's rate where even that stays under the cap: runs arriving slower than the budget).",
	'',
	`## The options, over the ${SCENARIOS.length} scenarios of issues 17 and 18`,
	'',
	...summary(SCENARIOS),
	'',
	'## Per scenario: before and the chosen option',
	'',
	...detail,
	'',
	'## Executions sharing a worker (chosen option): when each run finished',
	'',
	'| scenario | runs |',
	'|---|---|',
	...sharing,
	'',
	`## ${generated.length} generated scenarios (test/bench/fleetScenarios.ts: 1 to 5 processes, budgets 200 to 1,500, answers in 50 to 500 ms, starts together or up to 30 s apart)`,
	'',
	...summary(generated),
	'',
	'| group | option | target met | at most 2 % 429s | mean 429 share | median span ÷ allowed |',
	'|---|---|---:|---:|---:|---:|',
	...generatedRows,
	'',
].join('\n');
const out = join(__dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'fleet.md'), markdown);
process.stdout.write(markdown);
