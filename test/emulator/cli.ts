/**
 * The Graph emulator in a process of its own, so that a benchmark's `process.cpuUsage()` counts only n8n and the
 * node, never the emulator answering them.
 *
 * - Forked with an IPC channel (what test/bench does): send `{ id, command }` messages, get `{ id, ok, result }`
 *   or `{ id, ok: false, error }` back. The first command must be `start`.
 * - Run by hand: `npx tsx test/emulator/cli.ts [--port 8080] [--latency 50] [--users 3000] [--seed 1]
 *   [--no-throttle]` starts at once and prints one JSON line `{"url":…,"loginBaseUrl":…}`; then every line on
 *   stdin is a command (`{"id":1,"command":{"cmd":"summary"}}`) answered by one line on stdout. Ctrl+C stops it.
 */
import { createInterface } from 'node:readline';

import { GraphEmulator, type GraphEmulatorOptions, type LogEntry } from './index';
import type { AppRegistration, FaultConfig, RetryAfterFormat, ThrottleConfig } from './index';

export type EmulatorCommand =
	| { cmd: 'start'; options: GraphEmulatorOptions }
	| { cmd: 'addUsers'; count: number }
	/** Object ids of users `from` … `from + count - 1` (0-based, in the order they were added). */
	| { cmd: 'userIds'; from: number; count: number }
	| { cmd: 'registerApp'; registration: AppRegistration }
	| {
			cmd: 'configure';
			latencyMs?: number;
			throttle?: ThrottleConfig | false;
			faults?: FaultConfig;
			retryAfterFormat?: RetryAfterFormat;
	  }
	/** Forgets the request log and counters, and restarts the emulator's CPU clock for the next summary. */
	| { cmd: 'clearLog' }
	| { cmd: 'summary' }
	| { cmd: 'tokensIssued' }
	| { cmd: 'expireAllTokens' }
	| { cmd: 'stop' };

export interface EmulatorStarted {
	url: string;
	loginBaseUrl: string;
}

/** The request log reduced to what a benchmark reports; bodies stay in the emulator's process. */
export interface LogSummary {
	/** Graph requests (top level; `$batch` sub-requests are counted apart), not sign-ins. */
	graphRequests: number;
	batchSubRequests: number;
	loginRequests: number;
	byStatus: Record<string, number>;
	/** 429s from the emulator's own throttle (not injected faults). */
	throttled: number;
	faults: Record<string, number>;
	/** The most Graph requests (sub-requests included) any one app made within any 30 s, by the emulator's clock. */
	maxIn30s: number;
	/** Arrival of the first and the last Graph request (ms since epoch), 0 when none. */
	firstRequestAt: number;
	lastRequestAt: number;
	/** Ids sent in getPresencesByUserId requests, repeats included, and how many such requests were answered 400. */
	presenceIdsSent: number;
	presenceBadRequests: number;
	/** The emulator's own CPU since `clearLog` (user + system, ms). */
	emulatorCpuMs: number;
	rssBytes: number;
}

export type EmulatorReply =
	| { id: number; ok: true; result: unknown }
	| { id: number; ok: false; error: string };

export interface EmulatorMessage {
	id: number;
	command: EmulatorCommand;
}

const WINDOW_MS = 30_000;

let emulator: GraphEmulator | undefined;
let cpuSince = process.cpuUsage();

function running(): GraphEmulator {
	if (emulator === undefined)
		throw new Error('the emulator is not started: send { cmd: "start" } first');
	return emulator;
}

function summarize(log: readonly LogEntry[]): LogSummary {
	const graph = log.filter((entry) => !entry.path.startsWith('/login'));
	const topLevel = graph.filter((entry) => entry.batchSubRequest !== true);
	const byStatus: Record<string, number> = {};
	const faults: Record<string, number> = {};
	let throttled = 0;
	let presenceIdsSent = 0;
	let presenceBadRequests = 0;
	for (const entry of graph) {
		if (entry.batchSubRequest !== true) byStatus[entry.status] = (byStatus[entry.status] ?? 0) + 1;
		if (entry.fault !== undefined) faults[entry.fault] = (faults[entry.fault] ?? 0) + 1;
		if (entry.throttled === true) throttled++;
		if (/getpresencesbyuserid$/i.test(entry.path)) {
			const body = entry.body;
			if (typeof body === 'object' && body !== null && 'ids' in body && Array.isArray(body.ids))
				presenceIdsSent += body.ids.length;
			if (entry.status === 400) presenceBadRequests++;
		}
	}
	// What Graph counts: requests per app (the $batch envelope is not counted, its sub-requests are).
	const byApp = new Map<string, number[]>();
	for (const entry of graph) {
		if (/^\/(v1\.0|beta)\/\$batch\/?$/i.test(entry.path)) continue;
		const key = entry.clientId ?? '?';
		const times = byApp.get(key) ?? [];
		times.push(entry.time);
		byApp.set(key, times);
	}
	let maxIn30s = 0;
	for (const times of byApp.values()) {
		times.sort((a, b) => a - b);
		for (let start = 0, end = 0; end < times.length; end++) {
			while (times[end] - times[start] >= WINDOW_MS) start++;
			maxIn30s = Math.max(maxIn30s, end - start + 1);
		}
	}
	const cpu = process.cpuUsage(cpuSince);
	const times = topLevel.map((entry) => entry.time);
	return {
		graphRequests: topLevel.length,
		batchSubRequests: graph.length - topLevel.length,
		loginRequests: log.length - graph.length,
		byStatus,
		throttled,
		faults,
		maxIn30s,
		firstRequestAt: times.reduce((min, time) => (min === 0 || time < min ? time : min), 0),
		lastRequestAt: times.reduce((max, time) => Math.max(max, time), 0),
		presenceIdsSent,
		presenceBadRequests,
		emulatorCpuMs: (cpu.user + cpu.system) / 1000,
		rssBytes: process.memoryUsage().rss,
	};
}

export async function execute(command: EmulatorCommand): Promise<unknown> {
	switch (command.cmd) {
		case 'start': {
			if (emulator !== undefined) throw new Error('the emulator is already started');
			emulator = await GraphEmulator.start(command.options);
			cpuSince = process.cpuUsage();
			const started: EmulatorStarted = { url: emulator.url, loginBaseUrl: emulator.loginBaseUrl };
			return started;
		}
		case 'addUsers':
			running().addUsers(command.count);
			return running().users.length;
		case 'userIds':
			return running()
				.users.slice(command.from, command.from + command.count)
				.map((user) => user.id);
		case 'registerApp':
			running().registerApp(command.registration);
			return null;
		case 'configure': {
			const emu = running();
			if (command.latencyMs !== undefined) emu.latencyMs = command.latencyMs;
			if (command.throttle !== undefined) emu.throttle = command.throttle;
			if (command.faults !== undefined) emu.faults = command.faults;
			if (command.retryAfterFormat !== undefined) emu.retryAfterFormat = command.retryAfterFormat;
			return null;
		}
		case 'clearLog':
			running().clearLog();
			cpuSince = process.cpuUsage();
			return null;
		case 'summary':
			return summarize(running().log);
		case 'tokensIssued':
			return running().tokensIssued;
		case 'expireAllTokens':
			running().expireAllTokens();
			return null;
		case 'stop':
			await emulator?.stop();
			emulator = undefined;
			return null;
	}
}

async function answer(message: EmulatorMessage): Promise<EmulatorReply> {
	try {
		return { id: message.id, ok: true, result: await execute(message.command) };
	} catch (error) {
		return {
			id: message.id,
			ok: false,
			error: error instanceof Error ? error.message : String(error),
		};
	}
}

function isMessage(value: unknown): value is EmulatorMessage {
	return (
		typeof value === 'object' &&
		value !== null &&
		'id' in value &&
		typeof value.id === 'number' &&
		'command' in value &&
		typeof value.command === 'object' &&
		value.command !== null &&
		'cmd' in value.command
	);
}

function flag(name: string): string | undefined {
	const index = process.argv.indexOf(`--${name}`);
	return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
	const send = process.send?.bind(process);
	if (send !== undefined) {
		process.on('message', (message: unknown) => {
			if (!isMessage(message)) return;
			void answer(message).then((reply) => {
				send(reply);
				if (message.command.cmd === 'stop') process.disconnect();
			});
		});
		// The parent went away: nothing else will ever talk to this emulator.
		process.on('disconnect', () => {
			void emulator?.stop().finally(() => process.exit(0));
			if (emulator === undefined) process.exit(0);
		});
		return;
	}

	const options: GraphEmulatorOptions = {
		port: Number(flag('port') ?? 0),
		latencyMs: Number(flag('latency') ?? 0),
		seed: Number(flag('seed') ?? 1),
		...(process.argv.includes('--no-throttle') ? { throttle: false } : {}),
	};
	const started = await execute({ cmd: 'start', options });
	await execute({ cmd: 'addUsers', count: Number(flag('users') ?? 100) });
	process.stdout.write(`${JSON.stringify(started)}\n`);
	const lines = createInterface({ input: process.stdin });
	lines.on('line', (line) => {
		let parsed: unknown;
		try {
			parsed = JSON.parse(line);
		} catch {
			process.stdout.write(`${JSON.stringify({ id: -1, ok: false, error: 'not JSON' })}\n`);
			return;
		}
		if (!isMessage(parsed)) {
			process.stdout.write(
				`${JSON.stringify({ id: -1, ok: false, error: 'expected { id, command: { cmd, … } }' })}\n`,
			);
			return;
		}
		const message = parsed;
		void answer(message).then((reply) => {
			process.stdout.write(`${JSON.stringify(reply)}\n`);
			if (message.command.cmd === 'stop') process.exit(0);
		});
	});
	const stop = (): void => {
		void execute({ cmd: 'stop' }).finally(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (require.main === module) void main();
