/** Reads a profile.ts run: top self-time functions, self time by package, and the request timeline. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
	hitCount?: number;
	children?: number[];
}
interface CpuProfile {
	nodes: ProfileNode[];
	startTime: number;
	endTime: number;
	samples: number[];
	timeDeltas: number[];
}

function packageOf(url: string): string {
	if (url === '') return '(native/vm)';
	const nm = url.lastIndexOf('node_modules/');
	if (nm >= 0) {
		const rest = url.slice(nm + 'node_modules/'.length).split('/');
		if (rest[0] === '.cache') return 'OUR CODE (dist snapshot)';
		return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
	}
	if (url.startsWith('node:')) return 'node internals';
	if (url.includes('/test/')) return 'test harness/bench';
	if (url.includes('/dist/')) return 'OUR CODE (dist)';
	return url;
}

export function analyze(base: string, top = 30): void {
	const profile = JSON.parse(readFileSync(`${base}.cpuprofile`, 'utf8')) as CpuProfile;
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const self = new Map<number, number>();
	for (let i = 0; i < profile.samples.length; i++) {
		const delta = profile.timeDeltas[i + 1] ?? 0;
		self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta);
	}
	const totalUs = profile.endTime - profile.startTime;
	const byFunction = new Map<string, number>();
	const byPackage = new Map<string, number>();
	for (const [id, us] of self) {
		const node = byId.get(id);
		if (!node) continue;
		const { functionName, url, lineNumber } = node.callFrame;
		const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/test\//, 'test/');
		const key = `${functionName || '(anonymous)'}  ${short}:${lineNumber + 1}`;
		byFunction.set(key, (byFunction.get(key) ?? 0) + us);
		const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(functionName)
			? functionName
			: packageOf(url);
		byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
	}
	const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
	console.log(`\nprofile ${base}.cpuprofile: ${ms(totalUs)} profiled`);
	console.log('\nself time by package:');
	for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15))
		console.log(`${ms(us)}  ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${pkg}`);
	console.log(`\ntop ${top} self time:`);
	for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
		console.log(`${ms(us)}  ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${key}`);

	// Inclusive time of our functions (and of n8n helpers called from them), by walking parents.
	const parent = new Map<number, number>();
	for (const node of profile.nodes)
		for (const child of node.children ?? []) parent.set(child, node.id);
	const inclusive = new Map<string, number>();
	for (const [id, us] of self) {
		const seen = new Set<string>();
		for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
			const node = byId.get(at);
			if (!node) break;
			const { functionName, url, lineNumber } = node.callFrame;
			if (!/msgraph-presence-(bench|profile)|\/dist\/|n8n-core|n8n-workflow/.test(url)) continue;
			const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/test\//, 'test/');
			const key = `${functionName || '(anonymous)'}  ${short}:${lineNumber + 1}`;
			if (seen.has(key)) continue;
			seen.add(key);
			inclusive.set(key, (inclusive.get(key) ?? 0) + us);
		}
	}
	console.log(`\ntop ${top} inclusive (our code, n8n-core, n8n-workflow):`);
	for (const [key, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
		console.log(`${ms(us)}  ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${key}`);

	const timeline = JSON.parse(readFileSync(`${base}.timeline.json`, 'utf8')) as {
		wallMs: number;
		cpuMs: number;
		spans: Array<{ enter: number; send?: number; answered?: number; done?: number }>;
	};
	const spans = timeline.spans;
	if (spans.length === 0) return;
	const pct = (values: number[], p: number) => {
		const sorted = [...values].sort((a, b) => a - b);
		return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
	};
	const http = spans
		.filter((s) => s.send !== undefined && s.answered !== undefined)
		.map((s) => (s.answered ?? 0) - (s.send ?? 0));
	const after = spans
		.filter((s) => s.answered !== undefined && s.done !== undefined)
		.map((s) => (s.done ?? 0) - (s.answered ?? 0));
	const queued = spans.filter((s) => s.send !== undefined).map((s) => (s.send ?? 0) - s.enter);
	const f = (n: number) => n.toFixed(0);
	console.log(
		`\nrequests: ${spans.length}; node wall ${f(timeline.wallMs)} ms, CPU ${f(timeline.cpuMs)} ms`,
	);
	console.log(
		`first request() at ${f(spans[0].enter)} ms, first send ${f(spans[0].send ?? NaN)}, last answer ${f(Math.max(...spans.map((s) => s.answered ?? 0)))}, last done ${f(Math.max(...spans.map((s) => s.done ?? 0)))}`,
	);
	console.log(
		`HTTP time (send → answered) p50 ${f(pct(http, 50))} p90 ${f(pct(http, 90))} max ${f(pct(http, 100))} ms`,
	);
	console.log(
		`after the answer (answered → request() returns) p50 ${f(pct(after, 50))} p90 ${f(pct(after, 90))} max ${f(pct(after, 100))} ms`,
	);
	console.log(`queued (enter → send) p50 ${f(pct(queued, 50))} max ${f(pct(queued, 100))} ms`);
	const sends = spans.map((s) => s.send ?? 0).sort((a, b) => a - b);
	let maxIn30 = 0;
	for (let a = 0, b = 0; b < sends.length; b++) {
		while (sends[b] - sends[a] >= 30_000) a++;
		maxIn30 = Math.max(maxIn30, b - a + 1);
	}
	console.log(`sends in any 30 s (worker clock): ${maxIn30}`);
	// In flight over time, in 1 s buckets (only the first 10 and a summary).
	const end = Math.max(...spans.map((s) => s.done ?? 0));
	const buckets: string[] = [];
	for (let t = 0; t < end; t += Math.max(1000, Math.ceil(end / 20 / 1000) * 1000)) {
		const started = spans.filter(
			(s) =>
				(s.send ?? -1) >= t &&
				(s.send ?? -1) < t + Math.max(1000, Math.ceil(end / 20 / 1000) * 1000),
		).length;
		buckets.push(`${(t / 1000).toFixed(0)}s:${started}`);
	}
	console.log(`sends per bucket: ${buckets.join(' ')}`);
}

if (require.main === module) analyze(process.argv[2]);
