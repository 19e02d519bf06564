import { spawn } from 'child_process';
import { createServer, type Server } from 'net';
import { join } from 'path';

import {
	alternativePorts,
	demoPorts,
	logTail,
	n8nNotUpMessage,
	ownN8nProblem,
	portsTakenMessage,
	type DemoPort,
} from '../demo/ports';
import { firstFreePort, portProblem } from '../shared/ports';

const ROOT = join(__dirname, '..', '..');

const n8nPort: DemoPort = { port: 5678, role: 'n8n', variable: 'DEMO_PORT', anyFreeAllowed: false };
const brokerPort: DemoPort = {
	port: 5679,
	role: "n8n's task broker",
	variable: 'DEMO_BROKER_PORT',
	anyFreeAllowed: false,
};
const emulatorPort: DemoPort = {
	port: 5700,
	role: 'the Graph emulator',
	variable: 'DEMO_GRAPH_PORT',
	anyFreeAllowed: true,
};

describe('the demo ports from the environment', () => {
	it("defaults to n8n's 5678 and its task broker's 5679; the emulator takes any free port", () => {
		expect(demoPorts({}, { emulator: true })).toEqual({
			ok: true,
			n8n: 5678,
			broker: 5679,
			emulator: 0,
			check: [n8nPort, brokerPort],
		});
	});

	it('moves each port with its variable, and checks the emulator only when it is fixed', () => {
		const plan = demoPorts(
			{ DEMO_PORT: '5688', DEMO_BROKER_PORT: ' 5689 ', DEMO_GRAPH_PORT: '5700' },
			{ emulator: true },
		);
		expect(plan).toEqual({
			ok: true,
			n8n: 5688,
			broker: 5689,
			emulator: 5700,
			check: [{ ...n8nPort, port: 5688 }, { ...brokerPort, port: 5689 }, emulatorPort],
		});
		// Against a real tenant there is no emulator.
		expect(demoPorts({ DEMO_GRAPH_PORT: '5700' }, { emulator: false })).toMatchObject({
			emulator: 0,
			check: [n8nPort, brokerPort],
		});
	});

	it('says in one line what is wrong with a value', () => {
		expect(demoPorts({ DEMO_PORT: 'abc' }, { emulator: true })).toEqual({
			ok: false,
			message: 'DEMO_PORT=abc is not a port: give a number from 1 to 65535',
		});
		expect(demoPorts({ DEMO_PORT: '0' }, { emulator: true })).toEqual({
			ok: false,
			message: 'DEMO_PORT=0 is not a port: give a number from 1 to 65535',
		});
		expect(demoPorts({ DEMO_GRAPH_PORT: '70000' }, { emulator: true })).toEqual({
			ok: false,
			message:
				'DEMO_GRAPH_PORT=70000 is not a port: give a number from 0 to 65535 (0: any free port)',
		});
		expect(demoPorts({ DEMO_PORT: '5679' }, { emulator: true })).toEqual({
			ok: false,
			message:
				"DEMO_PORT and DEMO_BROKER_PORT are both 5679: n8n and n8n's task broker each need their own port",
		});
	});

	it('offers ports ten apart, never another of the demo ports', () => {
		expect(alternativePorts(5678, [5678, 5688]).slice(0, 3)).toEqual([5698, 5708, 5718]);
		expect(alternativePorts(65530, [])).toEqual([
			65520, 65510, 65500, 65490, 65480, 65470, 65460, 65450, 65440, 65430,
		]);
		expect(alternativePorts(80, [])).toEqual([]);
	});
});

describe('the message for taken ports', () => {
	it('names the port, what it is for, and the way out', () => {
		expect(portsTakenMessage([{ ...n8nPort, code: 'EADDRINUSE', suggestion: 5688 }])).toBe(
			'port 5678 (n8n) is already in use — another n8n? Stop it, or run with DEMO_PORT=5688',
		);
		expect(portsTakenMessage([{ ...brokerPort, code: 'EADDRINUSE', suggestion: 5689 }])).toBe(
			"port 5679 (n8n's task broker) is already in use — another n8n? Stop it, or run with DEMO_BROKER_PORT=5689",
		);
		expect(portsTakenMessage([{ ...emulatorPort, code: 'EADDRINUSE', suggestion: 0 }])).toBe(
			'port 5700 (the Graph emulator) is already in use — stop what holds it, or run with DEMO_GRAPH_PORT=0 (any free port)',
		);
	});

	it('puts every taken port in the one line (another n8n holds both of its ports)', () => {
		expect(
			portsTakenMessage([
				{ ...n8nPort, code: 'EADDRINUSE', suggestion: 5688 },
				{ ...brokerPort, code: 'EADDRINUSE', suggestion: 5689 },
			]),
		).toBe(
			"ports 5678 (n8n) and 5679 (n8n's task broker) are already in use — another n8n? Stop it, or run with DEMO_PORT=5688 DEMO_BROKER_PORT=5689",
		);
	});

	it('says when no free port was found, and other reasons than "in use"', () => {
		expect(
			portsTakenMessage([{ ...n8nPort, port: 80, code: 'EACCES', suggestion: undefined }]),
		).toBe(
			'port 80 (n8n) is not available to listen on (EACCES) — choose another: run with DEMO_PORT=<a free port>',
		);
	});
});

describe("whether the n8n answering is the demo's own", () => {
	const ready = 'Initializing n8n process\nn8n ready on 127.0.0.1, port 5678\nVersion: 2.41.1\n';

	it('is when its process is alive and said it listens on the port', () => {
		expect(ownN8nProblem({ output: ready, exitCode: null, signal: null }, 5678)).toBeUndefined();
	});

	it('is not when its process exited, or has not said so (or said so for another port)', () => {
		expect(ownN8nProblem({ output: ready, exitCode: 1, signal: null }, 5678)).toBe(
			'it exited (code 1) and something else answered on port 5678',
		);
		expect(ownN8nProblem({ output: '', exitCode: null, signal: 'SIGKILL' }, 5678)).toBe(
			'it exited (SIGKILL) and something else answered on port 5678',
		);
		expect(ownN8nProblem({ output: ready, exitCode: null, signal: null }, 567)).toBe(
			'it has not said it listens on port 567, yet something answered there',
		);
	});

	it('says so in one line, then the last lines of its log', () => {
		const log = `${Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n')}\n\n`;
		expect(n8nNotUpMessage(5678, 'n8n exited (1)', log)).toBe(
			`the demo's own n8n did not come up on port 5678: n8n exited (1). The last lines of its log:\n${Array.from(
				{ length: 15 },
				(_, i) => `  line ${i + 6}`,
			).join('\n')}`,
		);
		expect(n8nNotUpMessage(5678, 'n8n exited (1)', '\n')).toBe(
			"the demo's own n8n did not come up on port 5678: n8n exited (1) (it printed nothing)",
		);
		expect(logTail('a\n\n  b  \n', 1)).toBe('    b');
	});
});

async function listen(port: number, host: string): Promise<Server> {
	return await new Promise<Server>((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(port, host, () => resolve(server));
	});
}

function portOf(server: Server): number {
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('no TCP port');
	return address.port;
}

async function close(server: Server): Promise<void> {
	await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Distinct ports free on 127.0.0.1 right now (held together while chosen, so never the same one twice). */
async function freePorts(count: number): Promise<number[]> {
	const servers = await Promise.all(Array.from({ length: count }, () => listen(0, '127.0.0.1')));
	const ports = servers.map(portOf);
	await Promise.all(servers.map(close));
	return ports;
}

describe('the port probe (real sockets)', () => {
	it('finds a port in use on 127.0.0.1, and free once released', async () => {
		const server = await listen(0, '127.0.0.1');
		const port = portOf(server);
		expect(await portProblem(port)).toBe('EADDRINUSE');
		await close(server);
		expect(await portProblem(port)).toBeUndefined();
	});

	it("finds a port held on the wildcard address (n8n's default `::`)", async () => {
		let server: Server;
		try {
			server = await listen(0, '::');
		} catch {
			return; // no IPv6 on this machine: nothing to hold the wildcard with
		}
		try {
			expect(await portProblem(portOf(server))).toBe('EADDRINUSE');
		} finally {
			await close(server);
		}
	});

	it('takes the first free candidate', async () => {
		const server = await listen(0, '127.0.0.1');
		const taken = portOf(server);
		const [free] = await freePorts(1);
		try {
			expect(await firstFreePort([taken, free])).toBe(free);
			expect(await firstFreePort([taken])).toBeUndefined();
		} finally {
			await close(server);
		}
	});
});

interface DemoRun {
	code: number | null;
	stdout: string;
	stderr: string;
	ms: number;
}

/**
 * `tsx test/demo/demo.ts --check`, the command CI runs, with only the given DEMO_* variables (no tenant variables
 * from this shell). If it gets as far as preparing n8n, the check did not stop it: it is killed there, the test fails.
 */
async function runDemoCheck(env: Record<string, string>): Promise<DemoRun> {
	const started = Date.now();
	return await new Promise<DemoRun>((resolve, reject) => {
		const child = spawn(
			join(ROOT, 'node_modules', '.bin', 'tsx'),
			[join('test', 'demo', 'demo.ts'), '--check'],
			{
				cwd: ROOT,
				env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...env },
				detached: true,
			},
		);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (/Preparing n8n/.test(stdout) && child.pid) process.kill(-child.pid, 'SIGKILL');
		});
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.on('error', reject);
		child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
	});
}

describe('npm run demo -- --check with a port taken', () => {
	let held: Server;
	let port: number;

	beforeEach(async () => {
		held = await listen(0, '127.0.0.1');
		port = portOf(held);
	});
	afterEach(async () => await close(held));

	it("stops before anything starts, in one line, when n8n's port is taken", async () => {
		const [broker] = await freePorts(1);
		const suggestion = await firstFreePort(alternativePorts(port, [port, broker]));
		const run = await runDemoCheck({ DEMO_PORT: String(port), DEMO_BROKER_PORT: String(broker) });
		expect(run.stdout).toBe('');
		expect(run.stderr).toBe(
			`port ${port} (n8n) is already in use — another n8n? Stop it, or run with DEMO_PORT=${suggestion}\n`,
		);
		expect(run.code).toBe(1);
		expect(run.ms).toBeLessThan(60_000);
	});

	it("likewise for n8n's task broker port", async () => {
		const [n8n] = await freePorts(1);
		const suggestion = await firstFreePort(alternativePorts(port, [n8n, port]));
		const run = await runDemoCheck({ DEMO_PORT: String(n8n), DEMO_BROKER_PORT: String(port) });
		expect(run.stdout).toBe('');
		expect(run.stderr).toBe(
			`port ${port} (n8n's task broker) is already in use — another n8n? Stop it, or run with DEMO_BROKER_PORT=${suggestion}\n`,
		);
		expect(run.code).toBe(1);
	});

	it("likewise for the Graph emulator's port", async () => {
		const [n8n, broker] = await freePorts(2);
		const run = await runDemoCheck({
			DEMO_PORT: String(n8n),
			DEMO_BROKER_PORT: String(broker),
			DEMO_GRAPH_PORT: String(port),
		});
		expect(run.stdout).toBe('');
		expect(run.stderr).toBe(
			`port ${port} (the Graph emulator) is already in use — stop what holds it, or run with DEMO_GRAPH_PORT=0 (any free port)\n`,
		);
		expect(run.code).toBe(1);
	});
});
