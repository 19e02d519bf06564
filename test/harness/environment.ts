/**
 * Process-wide set-up n8n-core needs before it can execute anything: environment variables, a throw-away
 * user folder, and a logger that records everything the engine and the nodes log.
 *
 * This module must not import n8n-core at load time: the environment has to be in place first. The harness
 * index imports it before anything else.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { LoggerProxy } from 'n8n-workflow';
import type { Logger as WorkflowLogger, LogMetadata } from 'n8n-workflow';

function setDefaultEnv(name: string, value: string): void {
	if (process.env[name] === undefined) process.env[name] = value;
}

/** The folder n8n-core keeps its settings (encryption key) in; removed when the test file finishes. */
export const userFolder = mkdtempSync(join(tmpdir(), 'n8n-harness-'));
process.env.N8N_USER_FOLDER = userFolder;
setDefaultEnv('N8N_DIAGNOSTICS_ENABLED', 'false');
setDefaultEnv('N8N_VERSION_NOTIFICATIONS_ENABLED', 'false');
setDefaultEnv('N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS', 'false');
// Tests talk to servers on 127.0.0.1; n8n's SSRF guard (off by default) would refuse them.
setDefaultEnv('N8N_SSRF_PROTECTION_ENABLED', 'false');

declare const afterAll: ((fn: () => void) => void) | undefined;
try {
	if (typeof afterAll === 'function')
		afterAll(() => rmSync(userFolder, { recursive: true, force: true }));
} catch {
	// Imported from inside a test, where hooks cannot be added; the folder stays in the temp dir.
}

/**
 * n8n-core carries its own copies of `@n8n/di` and `@n8n/backend-common` (newer than the top-level ones), and
 * the DI container is keyed by class identity, so services must be registered through n8n-core's copies.
 * Plain `require` of a resolved path (not `createRequire`) keeps jest's module registry in charge, so this is
 * the very module instance n8n-core itself loaded.
 */
function requireAsCore(moduleName: string): unknown {
	const path = require.resolve(moduleName, { paths: [dirname(require.resolve('n8n-core'))] });
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const loaded: unknown = require(path);
	return loaded;
}
const { Container } = requireAsCore('@n8n/di') as typeof import('@n8n/di');
const { Logger } = requireAsCore('@n8n/backend-common') as typeof import('@n8n/backend-common');

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const logSink = new AsyncLocalStorage<string[]>();
const unscopedLogs: string[] = [];

/** Lines logged outside any `runWorkflow` call (start-up, servers, timers that outlived a run). */
export function logsOutsideRuns(): readonly string[] {
	return unscopedLogs;
}

/** Runs `fn` so that every line logged from it, however deep in its async work, goes to `lines`. */
export async function captureLogs<T>(lines: string[], fn: () => Promise<T>): Promise<T> {
	return await logSink.run(lines, fn);
}

const MAX_DEPTH = 12;
const MAX_ENTRY_CHARS = 500_000;

/**
 * Renders log metadata completely enough that a secret inside it (a header on an axios error's request
 * config, a token in a response body) shows up in the text a test scans. Handles cycles, errors and buffers.
 */
export function describeValue(value: unknown): string {
	const seen = new WeakSet<object>();
	const walk = (input: unknown, depth: number): unknown => {
		if (input === null || input === undefined) return input;
		if (typeof input === 'bigint') return `${input.toString()}n`;
		if (typeof input === 'function') return `[Function ${input.name}]`;
		if (typeof input === 'symbol') return input.toString();
		if (typeof input !== 'object') return input;
		if (seen.has(input)) return '[Circular]';
		if (depth > MAX_DEPTH) return '[Too deep]';
		seen.add(input);
		if (Buffer.isBuffer(input)) return `[Buffer ${input.toString('utf8', 0, 4096)}]`;
		if (input instanceof Date) return input.toISOString();
		if (input instanceof URLSearchParams) return input.toString();
		if (Array.isArray(input)) return input.map((entry) => walk(entry, depth + 1));
		const out: Record<string, unknown> = {};
		if (input instanceof Error) {
			out.name = input.name;
			out.message = input.message;
			out.stack = input.stack;
			if (input.cause !== undefined) out.cause = walk(input.cause, depth + 1);
		}
		if (input instanceof Map) {
			out.entries = walk([...input.entries()], depth + 1);
			return out;
		}
		for (const key of Object.keys(input)) {
			let entry: unknown;
			try {
				entry = (input as Record<string, unknown>)[key];
			} catch (error) {
				entry = `[Getter threw: ${error instanceof Error ? error.message : String(error)}]`;
			}
			out[key] = walk(entry, depth + 1);
		}
		return out;
	};
	try {
		const text = JSON.stringify(walk(value, 0));
		return text.length > MAX_ENTRY_CHARS ? `${text.slice(0, MAX_ENTRY_CHARS)}…[truncated]` : text;
	} catch (error) {
		return `[Unserialisable: ${error instanceof Error ? error.message : String(error)}]`;
	}
}

function record(level: LogLevel, message: string, metadata?: LogMetadata): void {
	const hasMetadata = metadata !== undefined && Object.keys(metadata).length > 0;
	const line = `[${level}] ${message}${hasMetadata ? ` ${describeValue(metadata)}` : ''}`;
	(logSink.getStore() ?? unscopedLogs).push(line);
	if (process.env.HARNESS_LOG === '1' || process.env.HARNESS_LOG === level)
		process.stderr.write(`${line}\n`);
}

/**
 * Stands in for n8n's winston-based `Logger` (what nodes get as `this.logger`) and for the `LoggerProxy`
 * the engine logs through. `scoped()` returns itself: scopes only filter output in n8n.
 */
class HarnessLogger implements WorkflowLogger {
	error(message: string, metadata?: LogMetadata): void {
		record('error', message, metadata);
	}

	warn(message: string, metadata?: LogMetadata): void {
		record('warn', message, metadata);
	}

	info(message: string, metadata?: LogMetadata): void {
		record('info', message, metadata);
	}

	debug(message: string, metadata?: LogMetadata): void {
		record('debug', message, metadata);
	}

	scoped(): this {
		return this;
	}
}

export const harnessLogger = new HarnessLogger();
// The container wants a `Logger`; ours has the same public surface but none of winston's private state.
Container.set(Logger, harnessLogger as unknown as InstanceType<typeof Logger>);
LoggerProxy.init(harnessLogger);
