import { fork, type ChildProcess, type Serializable } from 'node:child_process';
import { pathToFileURL } from 'node:url';

import type { EmulatorCommand, EmulatorReply, EmulatorStarted, LogSummary } from '../emulator/cli';
import type {
	AppRegistration,
	FaultConfig,
	GraphEmulatorOptions,
	RetryAfterFormat,
	ThrottleConfig,
} from '../emulator';

/**
 * Child processes of the benchmark: the Graph emulator (test/emulator/cli.ts) and one worker per measured case,
 * so that a case's CPU and memory are its own and nothing of the emulator or of an earlier case is counted.
 */

/** Runs a TypeScript file in a child node with tsx's loader and an IPC channel. */
export function forkTs(file: string, nodeFlags: string[] = []): ChildProcess {
	const loader = process.execArgv.some((arg) => arg.includes('tsx'))
		? process.execArgv
		: ['--import', pathToFileURL(require.resolve('tsx')).href];
	return fork(file, [], {
		execArgv: [...loader, ...nodeFlags],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		serialization: 'advanced',
	});
}

/** Resolves when the child exits (with its exit code), for clean shutdowns and crash reports. */
export function exited(child: ChildProcess): Promise<number | null> {
	if (child.exitCode !== null) return Promise.resolve(child.exitCode);
	return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Talks to a forked worker one message at a time: `next` waits for its next message and rejects if it exits
 * before answering; `gone` settles when it has exited.
 */
export function workerChannel<Incoming, Outgoing>(
	worker: ChildProcess,
): {
	next: () => Promise<Incoming>;
	send: (message: Outgoing) => void;
	gone: Promise<number | null>;
} {
	const gone = exited(worker);
	const messages: Incoming[] = [];
	let wake: (() => void) | undefined;
	worker.on('message', (message: Incoming) => {
		messages.push(message);
		wake?.();
	});
	const next = async (): Promise<Incoming> => {
		while (messages.length === 0) {
			const died = gone.then((code) => {
				throw new Error(`the worker exited (${code}) before answering`);
			});
			await Promise.race([new Promise<void>((resolve) => (wake = resolve)), died]);
		}
		return messages.shift() as Incoming;
	};
	return { next, send: (message) => void worker.send(message as Serializable), gone };
}

function isReply(value: unknown): value is EmulatorReply {
	return (
		typeof value === 'object' &&
		value !== null &&
		'id' in value &&
		typeof value.id === 'number' &&
		'ok' in value
	);
}

type Waiters = Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;

/** The emulator in its own process, driven over IPC. */
export class EmulatorProcess {
	private nextId = 1;

	private constructor(
		private readonly child: ChildProcess,
		private readonly waiters: Waiters,
		readonly url: string,
		readonly loginBaseUrl: string,
	) {}

	static async start(options: GraphEmulatorOptions): Promise<EmulatorProcess> {
		const child = forkTs(require.resolve('../emulator/cli'));
		const waiters: Waiters = new Map();
		child.on('message', (message: unknown) => {
			if (!isReply(message)) return;
			const waiter = waiters.get(message.id);
			waiters.delete(message.id);
			if (message.ok) waiter?.resolve(message.result);
			else waiter?.reject(new Error(`emulator: ${message.error}`));
		});
		child.once('exit', (code) => {
			for (const waiter of waiters.values())
				waiter.reject(new Error(`the emulator process exited (${code})`));
			waiters.clear();
		});
		const started = (await send(child, waiters, 0, { cmd: 'start', options })) as EmulatorStarted;
		return new EmulatorProcess(child, waiters, started.url, started.loginBaseUrl);
	}

	private call(command: EmulatorCommand): Promise<unknown> {
		return send(this.child, this.waiters, this.nextId++, command);
	}

	async addUsers(count: number): Promise<number> {
		return (await this.call({ cmd: 'addUsers', count })) as number;
	}

	async userIds(from: number, count: number): Promise<string[]> {
		return (await this.call({ cmd: 'userIds', from, count })) as string[];
	}

	async registerApp(registration: AppRegistration): Promise<void> {
		await this.call({ cmd: 'registerApp', registration });
	}

	async configure(settings: {
		latencyMs?: number;
		throttle?: ThrottleConfig | false;
		faults?: FaultConfig;
		retryAfterFormat?: RetryAfterFormat;
	}): Promise<void> {
		await this.call({ cmd: 'configure', ...settings });
	}

	async clearLog(): Promise<void> {
		await this.call({ cmd: 'clearLog' });
	}

	async summary(): Promise<LogSummary> {
		return (await this.call({ cmd: 'summary' })) as LogSummary;
	}

	async tokensIssued(): Promise<string[]> {
		return (await this.call({ cmd: 'tokensIssued' })) as string[];
	}

	async stop(): Promise<void> {
		if (this.child.exitCode !== null) return;
		const gone = exited(this.child);
		await this.call({ cmd: 'stop' }).catch(() => undefined);
		await gone;
	}
}

function send(
	child: ChildProcess,
	pending: Waiters,
	id: number,
	command: EmulatorCommand,
): Promise<unknown> {
	return new Promise((resolve, reject) => {
		pending.set(id, { resolve, reject });
		child.send({ id, command }, (error) => {
			if (error) {
				pending.delete(id);
				reject(error);
			}
		});
	});
}
