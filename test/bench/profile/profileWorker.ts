/**
 * The bench worker (../worker.ts) with a CPU profile of exactly the measured node run (Probe.start → Probe.stop)
 * and a timeline of every Graph request the client sends (limiter wait, semaphore wait, HTTP time, answer
 * handling). Forked by profile.ts; writes PROFILE_OUT.cpuprofile and PROFILE_OUT.timeline.json.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';

import { Probe } from '../measure';
import { requireBuilt } from '../../shared/builtPackage';
import { benchDist, GRAPH_CLIENT_FILE } from '../built';

const out = process.env.PROFILE_OUT;
if (out === undefined) throw new Error('PROFILE_OUT is not set');
const sampleUs = Number(process.env.PROFILE_SAMPLE_US ?? 500);

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: sampleUs });

interface Span {
	/** request() entered (before the semaphore). */
	enter: number;
	/** Inside the semaphore: limiter reservation made. */
	slot?: number;
	/** sendOnce called (after the limiter's wait). */
	send?: number;
	/** httpRequest resolved. */
	answered?: number;
	/** request() returned. */
	done?: number;
}
const spans: Span[] = [];
let t0 = 0;
let measuring = false;

// The client module as the worker loads it (same file, same require cache entry).
const clientModule = requireBuilt<{
	GraphClient: { prototype: Record<string, (...args: unknown[]) => Promise<unknown>> };
}>(benchDist(), GRAPH_CLIENT_FILE);
const proto = clientModule.GraphClient.prototype;
const originalRequest = proto.request;
proto.request = async function (
	this: { ctx: { helpers: Record<string, unknown> } },
	...args: unknown[]
) {
	if (!measuring) return await originalRequest.apply(this, args);
	const span: Span = { enter: performance.now() - t0 };
	spans.push(span);
	try {
		return await originalRequest.apply(this, args);
	} finally {
		span.done = performance.now() - t0;
	}
};
const originalSendOnce = proto.sendOnce;
proto.sendOnce = async function (this: unknown, ...args: unknown[]) {
	if (!measuring) return await originalSendOnce.apply(this, args);
	// The newest span without a send time is the one this call belongs to (FIFO semaphore, no retries here).
	const span = spans.find((entry) => entry.send === undefined);
	if (span) span.send = performance.now() - t0;
	const result = await originalSendOnce.apply(this, args);
	if (span) span.answered = performance.now() - t0;
	return result;
};

const start = Probe.prototype.start;
const stop = Probe.prototype.stop;
Probe.prototype.start = function (this: Probe) {
	// The profiler starts first, so that starting it is not counted in the probe's wall time or the timeline.
	session.post('Profiler.start');
	start.call(this);
	t0 = performance.now();
	measuring = true;
};
Probe.prototype.stop = function (this: Probe) {
	const result = stop.call(this);
	measuring = false;
	writeFileSync(
		`${out}.timeline.json`,
		JSON.stringify({ wallMs: result.wallMs, cpuMs: result.cpuUserMs + result.cpuSystemMs, spans }),
	);
	session.post('Profiler.stop', (error, params) => {
		if (error) throw error;
		writeFileSync(`${out}.cpuprofile`, JSON.stringify(params.profile));
	});
	return result;
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../worker');
