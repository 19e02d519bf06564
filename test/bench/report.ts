import { boundMs } from './measure';
import type { CaseKind } from './worker';

const MAX_IDS_PER_REQUEST = 650;

export interface Machine {
	cpuModel: string;
	cores: number;
	memoryBytes: number;
	node: string;
	date: string;
	loadAverageAtStart: number[];
	loadAverageAtEnd: number[];
}

export interface Row {
	label: string;
	kind: CaseKind;
	shape: 'itemPerId' | 'oneList';
	ids: number;
	/** false: computed from the measured pacing, not run. */
	measured: boolean;
	graphRequests: number;
	tokenRequests: number;
	status429: number;
	status400: number;
	maxIn30s: number;
	/** The node's execute(), as n8n ran it. */
	wallMs: number;
	/** The whole workflow (trigger and input items included). */
	runWallMs: number;
	cpuMs: number | null;
	heapPeakDelta: number | null;
	rssPeakDelta: number | null;
	heapRetainedDelta: number | null;
	concurrency: number;
	boundMs: number;
	latencyBoundMs: number;
	throttleBoundMs: number;
	ratio: number;
	emulatorCpuMs: number;
	result: string;
	ok: boolean;
	gc: boolean;
	clientStats: {
		requests: number;
		retries: number;
		throttled: number;
		tokenRefreshes: number;
	} | null;
}

export interface BenchReport {
	machine: Machine;
	latencyMs: number;
	concurrency: number;
	getBatch: { size: number; intervalMs: number };
	quick: boolean;
	rows: Row[];
}

const n = (value: number): string => value.toLocaleString('en-US');

export function seconds(ms: number): string {
	if (ms < 1000) return `${Math.round(ms)} ms`;
	if (ms < 100_000) return `${(ms / 1000).toFixed(2)} s`;
	if (ms < 2 * 3600_000) return `${(ms / 60_000).toFixed(1)} min`;
	return `${(ms / 3600_000).toFixed(1)} h`;
}

function mb(bytes: number | null): string {
	if (bytes === null) return '—';
	return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MB`;
}

function perId(bytes: number | null, ids: number): string {
	if (bytes === null) return '—';
	return n(Math.max(0, Math.round(bytes / ids)));
}

function caseName(row: Row): string {
	if (row.kind === 'node')
		return row.shape === 'itemPerId'
			? 'this node (one item per id)'
			: 'this node (ids as one list)';
	if (row.kind === 'client') return 'the client alone';
	return row.label;
}

export interface TargetCheck {
	target: string;
	measured: string;
	met: boolean | null;
}

export function checkTargets(report: BenchReport): TargetCheck[] {
	const find = (kind: CaseKind, ids: number, shape?: Row['shape']): Row | undefined =>
		report.rows.find(
			(row) =>
				row.measured &&
				row.kind === kind &&
				row.ids === ids &&
				(shape === undefined || row.shape === shape),
		);
	const checks: TargetCheck[] = [];
	const r2000 = find('node', 2000, 'itemPerId');
	checks.push(
		r2000
			? {
					target: '2,000 ids: at most 4 requests, under 0.5 s of node time',
					measured: `${r2000.graphRequests} requests, ${seconds(r2000.wallMs)} wall, ${seconds(r2000.cpuMs ?? 0)} CPU`,
					met: r2000.graphRequests <= 4 && r2000.wallMs < 500 && r2000.ok,
				}
			: { target: '2,000 ids', measured: 'not run', met: null },
	);
	for (const shape of ['itemPerId', 'oneList'] as const) {
		const r = find('node', 100_000, shape);
		if (!r) continue;
		checks.push({
			target: `100,000 ids (${shape === 'itemPerId' ? 'one item per id' : 'one list'}): within 1.2 × the bound, under 1 s of node CPU`,
			measured: `${seconds(r.wallMs)} = ${r.ratio.toFixed(2)} × ${seconds(r.boundMs)}; CPU ${seconds(r.cpuMs ?? 0)}`,
			met: r.ratio <= 1.2 && (r.cpuMs ?? Infinity) < 1000 && r.ok,
		});
	}
	const million = report.rows.find(
		(row) => row.measured && row.kind === 'client' && row.ids >= 1_000_000,
	);
	if (million) {
		const ratio = million.wallMs / million.throttleBoundMs;
		checks.push({
			target: '1,000,000 ids (client alone): within 1.05 × the throttle bound, no 429',
			measured: `${seconds(million.wallMs)} = ${ratio.toFixed(3)} × ${seconds(million.throttleBoundMs)}; ${million.status429} × 429; at most ${n(million.maxIn30s)} requests in any 30 s`,
			met: ratio <= 1.05 && million.status429 === 0 && million.ok,
		});
	}
	const nodeRows = report.rows
		.filter(
			(row) =>
				row.measured &&
				row.kind === 'node' &&
				row.shape === 'itemPerId' &&
				row.heapPeakDelta !== null,
		)
		.sort((a, b) => a.ids - b.ids);
	if (nodeRows.length > 1) {
		// The growth from one size to the next, per added id: what each further id costs, without the fixed part.
		const slopes: string[] = [];
		for (let i = 1; i < nodeRows.length; i++) {
			const [a, b] = [nodeRows[i - 1], nodeRows[i]];
			slopes.push(
				`${n(a.ids)}→${n(b.ids)}: ${n(Math.round(((b.heapPeakDelta ?? 0) - (a.heapPeakDelta ?? 0)) / (b.ids - a.ids)))} B`,
			);
		}
		const client = report.rows.find(
			(row) => row.measured && row.kind === 'client' && row.heapPeakDelta !== null,
		);
		checks.push({
			target: 'memory linear and modest in ids',
			measured: `peak heap per added id, one item per id: ${slopes.join(', ')}${client ? `; client alone: ${perId(client.heapPeakDelta, client.ids)} B per id at ${n(client.ids)}` : ''}`,
			met: null,
		});
	}
	return checks;
}

export function renderMarkdown(report: BenchReport, chartFile: string): string {
	const { machine, latencyMs } = report;
	const lines: string[] = [];
	lines.push(
		`# Benchmark${report.quick ? ' (partial or development sizes: not for the README)' : ''}`,
	);
	lines.push('');
	lines.push(
		`Machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 1073741824).toFixed(1)} GB, Node.js ${machine.node}, ${machine.date.slice(0, 16).replace('T', ' ')} UTC. ` +
			`Load average (1/5/15 min) at start ${machine.loadAverageAtStart.map((v) => v.toFixed(2)).join(' / ')}, at end ${machine.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' / ')}.`,
	);
	lines.push('');
	if (Math.max(machine.loadAverageAtStart[0], machine.loadAverageAtEnd[0]) > machine.cores) {
		lines.push(
			`**The machine was busy** (load average above its ${machine.cores} cores, from other work): wall times include waiting for a CPU, and CPU times are inflated by the contention. Not figures for the README; run again on a quiet machine.`,
		);
		lines.push('');
	}
	lines.push(
		`Graph emulator (test/emulator) in a child process: ${latencyMs} ms per request, Graph's throttle of 1,500 requests per 30 s per app. ` +
			`Every case runs in a fresh worker process through n8n-core's engine (test/harness), with its own app registration, after one warm-up run of the same workflow (token cached, code compiled), as in a running n8n.`,
	);
	lines.push('');
	lines.push(
		'| case | ids | Graph requests | 429s | wall time | bound | × bound | node CPU | peak heap | heap / id | peak RSS | result |',
	);
	lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
	for (const row of report.rows) {
		const mark = (text: string): string => (row.measured ? text : `*${text}*`);
		lines.push(
			`| ${mark(caseName(row))} | ${n(row.ids)} | ${n(row.graphRequests)} | ${row.status429} | ${mark(seconds(row.wallMs))} | ${seconds(row.boundMs)} | ${mark(`${row.ratio.toFixed(2)}×`)} | ${row.cpuMs === null ? '—' : seconds(row.cpuMs)} | ${mb(row.heapPeakDelta)} | ${perId(row.heapPeakDelta, row.ids)} B | ${mb(row.rssPeakDelta)} | ${mark(row.result)} |`,
		);
	}
	lines.push('');
	lines.push(`![wall time against ids](${chartFile})`);
	lines.push('');
	lines.push('## Targets');
	lines.push('');
	lines.push('| target | measured | met |');
	lines.push('|---|---|---|');
	for (const check of checkTargets(report)) {
		lines.push(
			`| ${check.target} | ${check.measured} | ${check.met === null ? 'see figures' : check.met ? 'yes' : '**no**'} |`,
		);
	}
	lines.push('');
	lines.push('## How to read it');
	lines.push('');
	lines.push(
		`- **wall time**: the node's execute() inside n8n's engine, from its start to its output (the trigger and the node that feeds the ids are not counted; the whole workflow is in bench.json as runWallMs).`,
	);
	lines.push(
		`- **bound**: the fastest the requests can possibly finish: max(⌈R / C⌉ × ${latencyMs} ms, ⌊(R − 1) / 1500⌋ × 30 s + ${latencyMs} ms) for R requests at concurrency C (8, the node's default; 50 for the HTTP Request GETs, its batch size; 1 for the POST).`,
	);
	lines.push(
		"- **node CPU**: user + system CPU of the worker process during the node's execute(): n8n's engine, expressions, HTTP client, JSON parsing and the node; the emulator runs in another process and is not counted.",
	);
	lines.push(
		"- **peak heap / peak RSS**: the highest V8 heapUsed (sampled every 20 ms) and resident set (the kernel's VmHWM, reset before the run) above the level after a full GC just before the node started; the input items already exist then. heap / id = peak heap ÷ ids.",
	);
	lines.push(
		`- **the client alone**: a benchmark node (test/bench/benchNodes.ts) inside n8n's engine hands the ids to the built getManyPresences, the call Get Many makes, and matches the answers by id; it puts out one summary item instead of a million items. The id list exists before the run.`,
	);
	lines.push(
		`- **HTTP Request** rows: n8n-nodes-base's HTTP Request node (n8n 2.41.1) with n8n's generic OAuth2 credential (client credentials). "GET per user, 50/s" is one GET /users/{id}/presence per item with its batching at ${report.getBatch.size} items every ${report.getBatch.intervalMs} ms — 1,500 per 30 s, the fastest fixed pacing that stays under the throttle. It puts out Graph's raw answers, with no retries. Rows in *italics* are computed from that pacing, not measured.`,
	);
	lines.push('');
	return `${lines.join('\n')}\n`;
}

// ---- chart ----

const W = 820;
const H = 460;
const M = { left: 70, right: 200, top: 46, bottom: 52 };
const X_MIN = 400;
const X_MAX = 2_000_000;
const Y_MIN_S = 0.01;
const Y_MAX_S = 36_000;
const Y_TICKS: Array<[number, string]> = [
	[0.01, '10 ms'],
	[0.1, '100 ms'],
	[1, '1 s'],
	[10, '10 s'],
	[60, '1 min'],
	[600, '10 min'],
	[3600, '1 h'],
	[36_000, '10 h'],
];

function xOf(ids: number): number {
	return (
		M.left +
		((Math.log10(ids) - Math.log10(X_MIN)) / (Math.log10(X_MAX) - Math.log10(X_MIN))) *
			(W - M.left - M.right)
	);
}

function yOf(ms: number): number {
	const s = Math.min(Y_MAX_S, Math.max(Y_MIN_S, ms / 1000));
	return (
		H -
		M.bottom -
		((Math.log10(s) - Math.log10(Y_MIN_S)) / (Math.log10(Y_MAX_S) - Math.log10(Y_MIN_S))) *
			(H - M.top - M.bottom)
	);
}

function esc(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function path(points: Array<[number, number]>): string {
	return points
		.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`)
		.join(' ');
}

export function renderSvg(report: BenchReport): string {
	const out: string[] = [];
	out.push(
		`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
	);
	out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
	out.push(
		`<text x="${M.left}" y="22" font-size="15" font-weight="bold" fill="#222">Wall time to read presence, by number of users (log–log)</text>`,
	);
	out.push(
		`<text x="${M.left}" y="38" font-size="11" fill="#555">${esc(`Graph emulator: ${report.latencyMs} ms latency, 1,500 requests / 30 s. ${report.machine.cpuModel}, ${report.machine.cores} cores, Node.js ${report.machine.node}, ${report.machine.date.slice(0, 10)}, load ${report.machine.loadAverageAtStart[0].toFixed(1)}`)}</text>`,
	);
	// grid and axes
	for (const [s, label] of Y_TICKS) {
		const y = yOf(s * 1000);
		out.push(
			`<line x1="${M.left}" y1="${y.toFixed(1)}" x2="${W - M.right}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`,
		);
		out.push(
			`<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(label)}</text>`,
		);
	}
	for (const ids of [1000, 10_000, 100_000, 1_000_000]) {
		const x = xOf(ids);
		out.push(
			`<line x1="${x.toFixed(1)}" y1="${M.top}" x2="${x.toFixed(1)}" y2="${H - M.bottom}" stroke="#e4e4e4"/>`,
		);
		out.push(
			`<text x="${x.toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" fill="#444">${n(ids)}</text>`,
		);
	}
	out.push(
		`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`,
	);
	out.push(
		`<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle" fill="#222">user ids</text>`,
	);
	out.push(
		`<text x="16" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})">wall time</text>`,
	);

	const rows = report.rows;
	const ours = rows
		.filter(
			(row) =>
				row.measured &&
				(row.kind === 'client' || (row.kind === 'node' && row.shape === 'itemPerId')),
		)
		.sort((a, b) => a.ids - b.ids);
	const oneList = rows.filter(
		(row) => row.measured && row.kind === 'node' && row.shape === 'oneList',
	);
	const getMeasured = rows
		.filter((row) => row.kind === 'httpGet' && row.measured)
		.sort((a, b) => a.ids - b.ids);
	const getComputed = rows.filter((row) => row.kind === 'httpGet').sort((a, b) => a.ids - b.ids);
	const posts = rows
		.filter((row) => row.kind === 'httpPost')
		.sort((a, b) => a.ids - b.ids || Number(b.measured) - Number(a.measured));

	const colors = { ours: '#1f6feb', bound: '#6e7781', get: '#d1242f', post: '#9a6700' };
	out.push(
		`<clipPath id="plot"><rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/></clipPath>`,
	);
	out.push('<g clip-path="url(#plot)">');
	// the bound for the requests this node makes (650 ids a request, 8 at once, 1,500 per 30 s), as a function of ids
	const boundPoints: Array<[number, number]> = [];
	for (let e = Math.log10(MAX_IDS_PER_REQUEST); e <= 6 + 1e-9; e += 0.01) {
		const ids = Math.round(10 ** e);
		boundPoints.push([
			xOf(ids),
			yOf(
				boundMs(Math.ceil(ids / MAX_IDS_PER_REQUEST), report.concurrency, report.latencyMs).boundMs,
			),
		]);
	}
	out.push(
		`<path d="${path(boundPoints)}" fill="none" stroke="${colors.bound}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
	);
	if (getComputed.length > 1) {
		out.push(
			`<path d="${path(getComputed.map((row) => [xOf(row.ids), yOf(row.wallMs)]))}" fill="none" stroke="${colors.get}" stroke-width="1.5" stroke-dasharray="2 3"/>`,
		);
	}
	if (getMeasured.length > 1)
		out.push(
			`<path d="${path(getMeasured.map((row) => [xOf(row.ids), yOf(row.wallMs)]))}" fill="none" stroke="${colors.get}" stroke-width="2.5"/>`,
		);
	// Value labels go on top of everything, outside the clipped plot area.
	const labels: string[] = [];
	const nodeLine = ours.filter((row) => row.kind === 'node');
	if (nodeLine.length > 1)
		out.push(
			`<path d="${path(nodeLine.map((row) => [xOf(row.ids), yOf(row.wallMs)]))}" fill="none" stroke="${colors.ours}" stroke-width="2.5"/>`,
		);

	for (const row of ours) {
		const x = xOf(row.ids);
		const y = yOf(row.wallMs);
		if (row.kind === 'client')
			out.push(
				`<rect x="${(x - 5).toFixed(1)}" y="${(y - 5).toFixed(1)}" width="10" height="10" fill="${colors.ours}"/>`,
			);
		else
			out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" fill="${colors.ours}"/>`);
		labels.push(
			`<text x="${(x + 7).toFixed(1)}" y="${(y - 8).toFixed(1)}" fill="${colors.ours}" font-size="11">${esc(seconds(row.wallMs))}</text>`,
		);
	}
	for (const row of oneList) {
		const x = xOf(row.ids);
		const y = yOf(row.wallMs);
		out.push(
			`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" fill="#ffffff" stroke="${colors.ours}" stroke-width="2"/>`,
		);
		labels.push(
			`<text x="${(x + 7).toFixed(1)}" y="${(y + 15).toFixed(1)}" fill="${colors.ours}" font-size="11">${esc(`${seconds(row.wallMs)} (one list)`)}</text>`,
		);
	}
	for (const row of getComputed) {
		const x = xOf(row.ids);
		const y = yOf(row.wallMs);
		out.push(
			row.measured
				? `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" fill="${colors.get}"/>`
				: `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" fill="#ffffff" stroke="${colors.get}" stroke-width="2"/>`,
		);
		labels.push(
			row.measured
				? `<text x="${(x + 7).toFixed(1)}" y="${(y + 16).toFixed(1)}" fill="${colors.get}" font-size="11">${esc(seconds(row.wallMs))}</text>`
				: `<text x="${(x - 7).toFixed(1)}" y="${(y - 8).toFixed(1)}" text-anchor="end" fill="${colors.get}" font-size="11">${esc(seconds(row.wallMs))} (computed)</text>`,
		);
	}
	const postSeen = new Set<number>();
	for (const row of posts) {
		if (postSeen.has(row.ids)) continue;
		postSeen.add(row.ids);
		const x = xOf(row.ids);
		if (row.status400 > 0 || !row.ok) {
			const y = H - M.bottom - 14;
			out.push(
				`<path d="M${(x - 5).toFixed(1)},${(y - 5).toFixed(1)} L${(x + 5).toFixed(1)},${(y + 5).toFixed(1)} M${(x - 5).toFixed(1)},${(y + 5).toFixed(1)} L${(x + 5).toFixed(1)},${(y - 5).toFixed(1)}" stroke="${colors.post}" stroke-width="2.5"/>`,
			);
			labels.push(
				`<text x="${x.toFixed(1)}" y="${(y - 9).toFixed(1)}" text-anchor="middle" fill="${colors.post}" font-size="10">400</text>`,
			);
		} else {
			const y = yOf(row.wallMs);
			out.push(
				`<rect x="${(x - 5).toFixed(1)}" y="${(y - 5).toFixed(1)}" width="10" height="10" fill="none" stroke="${colors.post}" stroke-width="2" transform="rotate(45 ${x.toFixed(1)} ${y.toFixed(1)})"/>`,
			);
		}
	}

	out.push('</g>');
	out.push(...labels);
	// legend
	const lx = W - M.right + 14;
	let ly = M.top + 8;
	const legend = (draw: string, text: string[]): void => {
		out.push(draw.replace(/\{x\}/g, String(lx)).replace(/\{y\}/g, String(ly)));
		text.forEach((line, i) =>
			out.push(
				`<text x="${lx + 30}" y="${ly + 4 + i * 13}" fill="#222" font-size="11">${esc(line)}</text>`,
			),
		);
		ly += 16 + text.length * 13;
	};
	legend(
		`<line x1="{x}" y1="{y}" x2="${lx + 22}" y2="{y}" stroke="${colors.ours}" stroke-width="2.5"/><circle cx="${lx + 11}" cy="{y}" r="4" fill="${colors.ours}"/>`,
		["this node in n8n's engine", '(one item per id)'],
	);
	if (oneList.length > 0)
		legend(
			`<circle cx="${lx + 11}" cy="{y}" r="4" fill="#fff" stroke="${colors.ours}" stroke-width="2"/>`,
			['this node, ids as one list'],
		);
	legend(`<rect x="${lx + 6}" y="${ly - 5}" width="10" height="10" fill="${colors.ours}"/>`, [
		'the Graph client alone',
	]);
	legend(
		`<line x1="{x}" y1="{y}" x2="${lx + 22}" y2="{y}" stroke="${colors.bound}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
		['theoretical bound', '(650 ids / request, 8 at once,', '1,500 requests / 30 s)'],
	);
	legend(
		`<line x1="{x}" y1="{y}" x2="${lx + 22}" y2="{y}" stroke="${colors.get}" stroke-width="2.5"/><circle cx="${lx + 11}" cy="{y}" r="4" fill="${colors.get}"/>`,
		['HTTP Request node:', 'GET per user at 50/s'],
	);
	legend(
		`<line x1="{x}" y1="{y}" x2="${lx + 22}" y2="{y}" stroke="${colors.get}" stroke-width="1.5" stroke-dasharray="2 3"/><circle cx="${lx + 11}" cy="{y}" r="4" fill="#fff" stroke="${colors.get}" stroke-width="2"/>`,
		['… computed, not measured'],
	);
	legend(
		`<rect x="${lx + 6}" y="${ly - 5}" width="10" height="10" fill="none" stroke="${colors.post}" stroke-width="2" transform="rotate(45 ${lx + 11} ${ly})"/>`,
		['HTTP Request node:', 'one POST with all ids', '(✕ = 400, above 650 ids)'],
	);
	out.push('</svg>');
	return `${out.join('\n')}\n`;
}
