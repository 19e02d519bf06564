/**
 * The demo's ports and what it says about them: which ports it needs (from the environment), the one line for ports
 * already taken, and whether the n8n answering on its port is the one it started. Pure: no sockets here (the probe
 * is ../shared/ports.ts), so every message can be tested exactly.
 */

/** One port the demo will listen on, and the variable that moves it. */
export interface DemoPort {
	port: number;
	/** What listens there, as the message names it. */
	role: string;
	variable: string;
	/** Whether 0 ("any free port") is a valid value of the variable, and so the simplest way out. */
	anyFreeAllowed: boolean;
}

export const DEFAULT_N8N_PORT = 5678;
/** n8n's own default for N8N_RUNNERS_BROKER_PORT: `n8n start` and `n8n execute` both start the task broker. */
export const DEFAULT_BROKER_PORT = 5679;

export type PortPlan =
	| { ok: true; n8n: number; broker: number; emulator: number; check: DemoPort[] }
	| { ok: false; message: string };

function parsePort(
	env: NodeJS.ProcessEnv,
	variable: string,
	fallback: number,
	allowZero: boolean,
): number | string {
	const raw = env[variable];
	if (raw === undefined || raw.trim() === '') return fallback;
	const port = Number(raw.trim());
	const lowest = allowZero ? 0 : 1;
	if (!Number.isInteger(port) || port < lowest || port > 65535)
		return `${variable}=${raw} is not a port: give a number from ${lowest} to 65535${allowZero ? ' (0: any free port)' : ''}`;
	return port;
}

/**
 * The ports the demo needs: n8n's (DEMO_PORT), its task broker's (DEMO_BROKER_PORT, passed to n8n as
 * N8N_RUNNERS_BROKER_PORT) and, with the emulator, the emulator's (DEMO_GRAPH_PORT; 0, the default, lets the system
 * pick a free one, so there is nothing to check).
 */
export function demoPorts(env: NodeJS.ProcessEnv, options: { emulator: boolean }): PortPlan {
	const n8n = parsePort(env, 'DEMO_PORT', DEFAULT_N8N_PORT, false);
	const broker = parsePort(env, 'DEMO_BROKER_PORT', DEFAULT_BROKER_PORT, false);
	const emulator = options.emulator ? parsePort(env, 'DEMO_GRAPH_PORT', 0, true) : 0;
	for (const value of [n8n, broker, emulator])
		if (typeof value === 'string') return { ok: false, message: value };
	const check: DemoPort[] = [
		{ port: n8n as number, role: 'n8n', variable: 'DEMO_PORT', anyFreeAllowed: false },
		{
			port: broker as number,
			role: "n8n's task broker",
			variable: 'DEMO_BROKER_PORT',
			anyFreeAllowed: false,
		},
	];
	if (emulator !== 0)
		check.push({
			port: emulator as number,
			role: 'the Graph emulator',
			variable: 'DEMO_GRAPH_PORT',
			anyFreeAllowed: true,
		});
	for (let i = 0; i < check.length; i++)
		for (let j = i + 1; j < check.length; j++)
			if (check[i].port === check[j].port)
				return {
					ok: false,
					message: `${check[i].variable} and ${check[j].variable} are both ${check[i].port}: ${check[i].role} and ${check[j].role} each need their own port`,
				};
	return {
		ok: true,
		n8n: n8n as number,
		broker: broker as number,
		emulator: emulator as number,
		check,
	};
}

/**
 * Ports to offer instead of a taken one, nearest first in steps of ten (5678 → 5688, as people tend to pick), never
 * one of the demo's other ports. The probe takes the first that is free.
 */
export function alternativePorts(port: number, avoid: number[]): number[] {
	const candidates: number[] = [];
	for (let step = 1; step <= 10; step++) candidates.push(port + 10 * step);
	for (let step = 1; step <= 10; step++) candidates.push(port - 10 * step);
	return candidates.filter((p) => p >= 1024 && p <= 65535 && !avoid.includes(p));
}

export interface TakenPort extends DemoPort {
	/** Why it cannot be used: the listen error's code (EADDRINUSE for "already in use"). */
	code: string;
	/** A port that was free when probed, or 0 ("any free port") where allowed; none if nothing free was found. */
	suggestion?: number;
}

function listWords(words: string[]): string {
	return words.length <= 1
		? words.join('')
		: `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/**
 * One line for every port the demo cannot listen on: which ports, for what, and the way out. The usual cause is
 * another n8n (it holds 5678 and 5679 by default), so that is named when an n8n port is among them.
 */
export function portsTakenMessage(taken: TakenPort[]): string {
	const named = taken.map((t) => `${t.port} (${t.role})`);
	const inUse = taken.every((t) => t.code === 'EADDRINUSE');
	const state = inUse
		? 'already in use'
		: `not available to listen on (${[...new Set(taken.map((t) => t.code))].join(', ')})`;
	const subject =
		taken.length === 1 ? `port ${named[0]} is ${state}` : `ports ${listWords(named)} are ${state}`;
	const anotherN8n = taken.some((t) => t.variable !== 'DEMO_GRAPH_PORT');
	const stop = inUse
		? anotherN8n
			? 'another n8n? Stop it, or'
			: 'stop what holds it, or'
		: 'choose another:';
	const moves = taken.map((t) => {
		const to =
			t.suggestion === undefined
				? '<a free port>'
				: t.suggestion === 0
					? '0 (any free port)'
					: String(t.suggestion);
		return `${t.variable}=${to}`;
	});
	return `${subject} — ${stop} run with ${moves.join(' ')}`;
}

/** What an n8n started with N8N_PORT=port logs once it listens there (seen in 2.41.1 and 1.123.81). */
export function listensLine(port: number): RegExp {
	return new RegExp(`n8n ready on \\S+, port ${port}\\b`);
}

export interface N8nProcessState {
	/** Everything the process printed so far. */
	output: string;
	exitCode: number | null;
	signal: string | null;
}

/**
 * Whether the n8n the demo started is the one answering on its port. Something answered; if the demo's own process
 * has exited, or has not said it listens on that port, the answer came from another server (another n8n started
 * between the check and the start, say), and signing in there would fail or, worse, change someone else's n8n.
 * Returns what is wrong, or undefined when it is the demo's own.
 */
export function ownN8nProblem(state: N8nProcessState, port: number): string | undefined {
	if (state.exitCode !== null || state.signal !== null)
		return `it exited (${state.signal ?? `code ${state.exitCode}`}) and something else answered on port ${port}`;
	if (!listensLine(port).test(state.output))
		return `it has not said it listens on port ${port}, yet something answered there`;
	return undefined;
}

/** The last non-empty lines of a log, indented under the message. */
export function logTail(output: string, lines = 15): string {
	return output
		.split('\n')
		.map((line) => line.trimEnd())
		.filter((line) => line.trim() !== '')
		.slice(-lines)
		.map((line) => `  ${line}`)
		.join('\n');
}

/** One line saying the demo's own n8n did not come up and why, then the last lines of its log. */
export function n8nNotUpMessage(port: number, why: string, output: string): string {
	const tail = logTail(output);
	return `the demo's own n8n did not come up on port ${port}: ${why}${tail ? `. The last lines of its log:\n${tail}` : ' (it printed nothing)'}`;
}
