/**
 * Profiles one benchmark case: `npx tsx test/bench/profile/profile.ts node:100000:oneList [--latency 50] [--out dir] [--dist dir]`
 * (kinds as in bench.ts: `node:<ids>:itemPerId|oneList`, `client:<ids>`). The emulator runs in a child process as
 * in bench.ts; the case runs in profileWorker.ts (the bench worker plus a CPU profile of the measured node run and
 * a request timeline). Prints the top self-time functions, time by package and the request timeline summary.
 * Needs `npm run build` first. Not part of `npm run bench`: a tool for finding where the time goes.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { TENANT } from '../../shared/graphApp';
import { DIST } from '../../shared/builtPackage';
import { EmulatorProcess, forkTs, workerChannel } from '../processes';
import type { CaseSpec, CoordinatorMessage, WorkerMessage } from '../worker';
import { analyze } from './analyze';

const [kind, idsArg, shapeArg] = (process.argv[2] ?? 'node:100000:oneList').split(':');
const ids = Number(idsArg);
const shape = (shapeArg ?? 'oneList') as CaseSpec['shape'];
const option = (name: string): string | undefined => {
	const at = process.argv.indexOf(name);
	return at >= 0 ? process.argv[at + 1] : undefined;
};
const latencyMs = Number(option('--latency') ?? 50);
const outDir =
	option('--out') ??
	join(__dirname, '..', '..', '..', 'node_modules', '.cache', 'msgraph-presence-profile');

async function main(): Promise<void> {
	if (kind !== 'node' && kind !== 'client') throw new Error('kind must be node or client');
	mkdirSync(outDir, { recursive: true });
	const snapshot = join(outDir, `dist-${process.pid}`);
	// `--dist <dir>`: another build to profile (e.g. a copy of dist/ from before a change).
	cpSync(option('--dist') ?? DIST, snapshot, { recursive: true });
	// The snapshot must resolve n8n-workflow and msal: it lives in node_modules/.cache by default.
	process.env.BENCH_DIST = snapshot;
	const emulator = await EmulatorProcess.start({ latencyMs, seed: 1 });
	try {
		await emulator.addUsers(ids + 650);
		const clientId = 'bbbbbbbb-0000-4000-8000-00000000beef';
		const clientSecret = 'profile~secret~Qx7.w';
		await emulator.registerApp({ tenantId: TENANT, clientId, clientSecret });
		const caseIds = await emulator.userIds(0, ids);
		const warmUpIds = await emulator.userIds(ids, Math.min(650, ids));
		const spec: CaseSpec = {
			kind,
			shape,
			graphBaseUrl: emulator.url,
			loginBaseUrl: emulator.loginBaseUrl,
			tenantId: TENANT,
			clientId,
			clientSecret,
		};
		const base = join(
			outDir,
			`${kind}-${ids}-${shape}-${option('--label') ?? 'run'}-${Date.now()}`,
		);
		process.env.PROFILE_OUT = base;
		const flags = ['--expose-gc', ...(ids >= 500_000 ? ['--max-old-space-size=8192'] : [])];
		const worker = forkTs(require.resolve('./profileWorker'), flags);
		const { next, send, gone } = workerChannel<WorkerMessage, CoordinatorMessage>(worker);
		send({ type: 'case', spec, ids: caseIds, warmUpIds });
		await next();
		await emulator.clearLog();
		send({ type: 'go' });
		const done = await next();
		if (done.type !== 'done') throw new Error('expected done');
		await new Promise((resolve) => setTimeout(resolve, 200));
		const summary = await emulator.summary();
		await gone;
		console.log(
			`${kind} ${ids} ${shape}: wall ${done.measurement?.wallMs.toFixed(0)} ms, CPU ${((done.measurement?.cpuUserMs ?? 0) + (done.measurement?.cpuSystemMs ?? 0)).toFixed(0)} ms, ${summary.graphRequests} requests, 429s ${summary.byStatus['429'] ?? 0}, max in 30 s ${summary.maxIn30s}, emulator CPU ${summary.emulatorCpuMs.toFixed(0)} ms, error ${done.error}, outcome ${JSON.stringify({ ...done.outcome, tally: undefined })}`,
		);
		console.log(
			`emulator: first request ${summary.firstRequestAt}, last ${summary.lastRequestAt} (span ${summary.lastRequestAt - summary.firstRequestAt} ms)`,
		);
		analyze(base);
	} finally {
		await emulator.stop();
		rmSync(snapshot, { recursive: true, force: true });
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
