import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/**
 * What one measured piece of work costs in this process: wall time, user + system CPU (the Graph emulator runs
 * in another process, so this is n8n's engine and the node, never the answering), and peak memory above the
 * level just before it started (after a full GC).
 */
export interface Measurement {
	wallMs: number;
	cpuUserMs: number;
	cpuSystemMs: number;
	/** heapUsed and rss just before the work, after a GC. */
	heapBaseline: number;
	rssBaseline: number;
	/** Highest V8 heap in use seen by the 20 ms sampler (and at the end). */
	heapPeak: number;
	/** The kernel's high-water mark of the resident set (VmHWM, reset before the work), or the sampler's peak. */
	rssPeak: number;
	rssPeakSource: 'VmHWM' | 'sampler';
	/** heapUsed right after the work, before anything is released. */
	heapAfter: number;
}

const SAMPLE_MS = 20;

function collectGarbage(): void {
	const gc: unknown = (globalThis as { gc?: unknown }).gc;
	if (typeof gc === 'function') {
		gc();
		gc();
	}
}

export function gcAvailable(): boolean {
	return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Linux: writing 5 to clear_refs resets the resident set's high-water mark (VmHWM) of this process. */
function resetRssPeak(): boolean {
	try {
		writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}

function readRssPeak(): number | undefined {
	try {
		const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
		return match ? Number(match[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

export class Probe {
	private timer: NodeJS.Timeout | undefined;
	private heapPeak = 0;
	private rssPeak = 0;
	private started:
		| { wall: number; cpu: NodeJS.CpuUsage; heap: number; rss: number; hwm: boolean }
		| undefined;
	result: Measurement | undefined;

	private sampleRss = false;

	start(): void {
		collectGarbage();
		const memory = process.memoryUsage();
		const hwm = resetRssPeak();
		this.heapPeak = memory.heapUsed;
		this.rssPeak = memory.rss;
		// Reading the resident set costs a /proc read each time; with the kernel's high-water mark it is not needed.
		this.sampleRss = !hwm;
		this.timer = setInterval(() => this.sample(), SAMPLE_MS);
		this.started = {
			wall: performance.now(),
			cpu: process.cpuUsage(),
			heap: memory.heapUsed,
			rss: memory.rss,
			hwm,
		};
	}

	stop(): Measurement {
		const started = this.started;
		if (started === undefined) throw new Error('Probe.stop() before start()');
		const wallMs = performance.now() - started.wall;
		const cpu = process.cpuUsage(started.cpu);
		this.sample();
		if (this.timer) clearInterval(this.timer);
		const kernelPeak = started.hwm ? readRssPeak() : undefined;
		this.result = {
			wallMs,
			cpuUserMs: cpu.user / 1000,
			cpuSystemMs: cpu.system / 1000,
			heapBaseline: started.heap,
			rssBaseline: started.rss,
			heapPeak: this.heapPeak,
			rssPeak: kernelPeak ?? this.rssPeak,
			rssPeakSource: kernelPeak === undefined ? 'sampler' : 'VmHWM',
			heapAfter: process.memoryUsage().heapUsed,
		};
		this.started = undefined;
		return this.result;
	}

	private sample(): void {
		const heap = getHeapStatistics().used_heap_size;
		if (heap > this.heapPeak) this.heapPeak = heap;
		if (this.sampleRss) {
			const rss = process.memoryUsage.rss();
			if (rss > this.rssPeak) this.rssPeak = rss;
		}
	}
}

export const GRAPH_LIMIT = 1500;
export const GRAPH_WINDOW_MS = 30_000;

/**
 * The fastest R requests can possibly finish: R requests at concurrency C with latency L take at least
 * ceil(R / C) · L, and Graph admits 1,500 per 30 s, so the last one cannot start before floor((R − 1) / 1500) · 30 s.
 */
export function boundMs(
	requests: number,
	concurrency: number,
	latencyMs: number,
): { boundMs: number; latencyBoundMs: number; throttleBoundMs: number } {
	const latencyBoundMs = Math.ceil(requests / concurrency) * latencyMs;
	const throttleBoundMs =
		Math.floor(Math.max(0, requests - 1) / GRAPH_LIMIT) * GRAPH_WINDOW_MS + latencyMs;
	return { boundMs: Math.max(latencyBoundMs, throttleBoundMs), latencyBoundMs, throttleBoundMs };
}
