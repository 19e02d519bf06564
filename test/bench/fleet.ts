/**
 * `npm run bench:fleet`: the rate control of several n8n processes (and several executions per process) sharing one
 * app's Graph budget, measured in virtual time (test/bench/fleetSim.ts) over the scenarios of
 * test/bench/fleetScenarios.ts. Deterministic: the same table on any machine. Writes test/bench/results/fleet.md;
 * the chosen option is proven in n8n's queue mode by test/e2e/queue.e2e.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_TUNING } from '../../nodes/shared/throttle/rateLimiter';
import { simulateFleet } from './fleetSim';
import { fleetOptions, measure, SCENARIOS, type Measures } from './fleetScenarios';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (share: number, digits = 0) => `${(100 * share).toFixed(digits)} %`;

function row(name: string, m: Measures): string {
	return (
		`| ${name} | ${m.admitted.toLocaleString('en')} | ${m.throttled} | ${percent(m.throttledShare, 2)} | ` +
		`${seconds(m.spanMs)} | ${percent(m.rateOfCap)} | ${seconds(m.floorMs)} | ${m.spanOverFloor.toFixed(2)} | ` +
		`${m.mostRetries} | ${m.meetsTarget ? 'yes' : '**no**'} |`
	);
}

const header = [
	'| scenario | admitted | 429s | 429 share | busy span | rate vs the cap | floor | span ÷ floor | most 429s in a row | target met |',
	'|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
];

const today: string[] = [];
for (const scenario of SCENARIOS) {
	const floor = simulateFleet(fleetOptions(scenario, { coordinated: true }));
	today.push(row(scenario.name, measure(scenario, { tuning: DEFAULT_TUNING }, floor)));
}

const markdown = [
	'# Rate control for a fleet sharing one app',
	'',
	'Virtual time (test/bench/fleetSim.ts): one limiter per n8n process (as `sharedLimiter` gives every execution in a process the same one), each execution a Get Many with 8 request slots of its own; Graph is a sliding window of the budget per 30 s that answers 429 with `Retry-After` (whole seconds until a slot frees); 50 ms per answer unless said. "2 workers × 2" is `n8n worker --concurrency=2` twice: with three runs one worker runs two of them.',
	'',
	'- **busy span**: from the first request to the last answer; **rate vs the cap**: admitted requests per 30 s over the span, over the budget (above 100 % when a run fits in little more than one window);',
	'- **floor**: the span of a perfectly coordinated fleet (one exact sliding window for everyone, every slot starting the moment Graph has room): the fastest a 30 s sliding window allows for these runs, starts, slots and latency;',
	"- **target** (issues 17 and 18): at most 2 % 429s, every request admitted once, a span within 1.25 × the floor plus one answer's latency, and at least 90 % of the cap's rate (of the coordinated fleet's rate where even that stays under the cap, i.e. runs arriving slower than the budget).",
	'',
	"## Today's limiter (version 0.1: a tenth of the budget at once then evenly paced, adaptive share after 429s)",
	'',
	...header,
	...today,
	'',
].join('\n');
const out = join(__dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'fleet.md'), markdown);
process.stdout.write(markdown);
