/**
 * Get Many's own code alone, without n8n's engine or HTTP: `node --expose-gc --import tsx test/bench/profile/ourCode.ts [ids] [runs] [dist …]`.
 * A fake execute context hands the ids over (one list in one item, and one item per id), a fake client answers
 * every getPresencesByUserId batch at once with presences shaped like Graph's (shuffled, as Graph answers), and
 * the time of execute() is reported (median of `runs`). Needs `npm run build`. What is left in the node's time
 * beyond this is n8n (expressions, engine) and the HTTP stack.
 */
import { performance } from 'node:perf_hooks';

import { requireBuilt } from '../../shared/builtPackage';
import { benchDist } from '../built';

type Execute = (this: unknown, client: unknown, simplify: boolean) => Promise<unknown[]>;
const count = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
/** Built trees to compare (e.g. a copy of dist/ from before a change, and dist/), run alternately. */
const dists = process.argv.length > 4 ? process.argv.slice(4) : [benchDist()];
const executes = dists.map(
	(dir) =>
		requireBuilt<{ execute: Execute }>(
			dir,
			'nodes/MicrosoftGraphPresence/actions/presence/getMany.operation.js',
		).execute,
);

function guid(index: number): string {
	const hex = index.toString(16).padStart(12, '0');
	return `3f2a${hex.slice(0, 4)}-1b2c-4d5e-8f90-${hex}`;
}
const ids = Array.from({ length: count }, (_, index) => guid(index));

function presenceOf(id: string): Record<string, unknown> {
	return {
		'@odata.type': '#microsoft.graph.presence',
		id,
		availability: 'Available',
		activity: 'Available',
		statusMessage: null,
		outOfOfficeSettings: { message: null, isOutOfOffice: false },
		sequenceNumber: '0000000000000406B3CED76C',
		workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
	};
}

/** Answers prepared before the timed run: parsed fresh, like an HTTP answer, and in another order than asked. */
let prepared: Array<{ ids: string[]; result: unknown[] }> = [];
function prepare(list: readonly string[]): void {
	const unique = [...new Set(list.map((id) => id.toLowerCase()))];
	prepared = [];
	for (let start = 0; start < unique.length; start += 650) {
		const batch = unique.slice(start, start + 650);
		prepared.push({
			ids: batch,
			result: JSON.parse(JSON.stringify(batch.map(presenceOf).reverse())) as unknown[],
		});
	}
}

const client = {
	async getManyPresences(
		list: readonly string[],
		onBatch?: (batch: (typeof prepared)[number], index: number) => void,
	) {
		if (list.length !== prepared.reduce((sum, batch) => sum + batch.ids.length, 0))
			throw new Error('unexpected id list');
		for (const [index, batch] of prepared.entries()) onBatch?.(batch, index);
		return prepared;
	},
	async resolveUserIds() {
		return new Map();
	},
};

function context(
	items: Array<{ json: Record<string, unknown> }>,
	value: (index: number) => unknown,
) {
	return {
		getInputData: () => items,
		getNodeParameter: (name: string, index: number, fallback?: unknown) =>
			name === 'userIds' ? value(index) : name === 'usersFrom' ? 'userIds' : fallback,
		continueOnFail: () => false,
		getNode: () => ({
			name: 'Presence',
			type: 'x',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		}),
	};
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function time(label: string, ctx: unknown, list: readonly string[]): Promise<void> {
	const cpu = executes.map((): number[] => []);
	const wall = executes.map((): number[] => []);
	const out = executes.map(() => 0);
	for (let run = 0; run < runs; run++) {
		for (const [which, execute] of executes.entries()) {
			prepare(list);
			gc();
			const started = performance.now();
			const cpuStarted = process.cpuUsage();
			const output = await execute.call(ctx, client, false);
			const used = process.cpuUsage(cpuStarted);
			wall[which].push(performance.now() - started);
			cpu[which].push((used.user + used.system) / 1000);
			out[which] = output.length;
		}
	}
	const median = (values: number[]) =>
		[...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
	const min = (values: number[]) => Math.min(...values);
	console.log(label);
	for (const [which, dir] of dists.entries()) {
		console.log(
			`  ${dir}: ${out[which]} items out; wall median ${median(wall[which]).toFixed(0)} ms, min ${min(wall[which]).toFixed(0)}; CPU median ${median(cpu[which]).toFixed(0)} ms, min ${min(cpu[which]).toFixed(0)}`,
		);
	}
}

async function main(): Promise<void> {
	await time(
		`${count} ids as one list`,
		context([{ json: {} }], () => ids),
		ids,
	);
	await time(
		`${count} ids, one item per id`,
		context(
			ids.map((id) => ({ json: { id } })),
			(index) => ids[index],
		),
		ids,
	);
	const upper = ids.map((id, index) => (index % 2 === 0 ? id.toUpperCase() : id));
	const twice = [...upper, ...ids];
	await time(
		`${count} ids as one list, half upper case, each twice`,
		context([{ json: {} }], () => twice),
		twice,
	);
	const commas = ids.join(', ');
	await time(
		`${count} ids as one comma-separated text`,
		context([{ json: {} }], () => commas),
		ids,
	);
}

void main();
