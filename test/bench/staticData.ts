/**
 * `npm run bench:state`: how much the triggers keep in the workflow's static data, which n8n stores in its
 * database and writes again whenever it changes. The polling trigger watches N users (by object id, and by user
 * principal name, whose lookups it caches there too) through n8n-core's PollContext against the Graph emulator;
 * the size of the saved JSON is measured after the baseline poll and after a poll with changes. Writes
 * test/bench/results/staticData.md. Needs `npm run build` (dist/) first.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import { runPoll } from '../harness';
import { loadBuiltPackage } from '../shared/builtPackage';
import { appSecretData, registerApp } from '../shared/graphApp';

const SIZES = process.argv.includes('--quick') ? [1000] : [1000, 10_000, 100_000];
const skipped = (staticData: IDataObject): boolean =>
	Object.values(staticData).some(
		(node) => typeof node === 'object' && node !== null && 'skippedPolls' in node,
	);

async function measure(
	emu: GraphEmulator,
	count: number,
	by: 'id' | 'name',
): Promise<{ baseline: number; afterChanges: number }> {
	const built = loadBuiltPackage();
	const app = await registerApp(emu, 'b0b0b0b0-0000-4000-8000-000000000001');
	const users = emu.users.slice(0, count);
	const node: INode = {
		id: 'trigger',
		name: 'Presence changed',
		type: 'n8n-nodes-msgraph-presence.microsoftGraphPresenceTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			authentication: 'application',
			userIds: users.map((user) => (by === 'id' ? user.id : user.userPrincipalName)).join(','),
			triggerOn: 'anyChange',
			options: {},
		} as INodeParameters,
		credentials: { microsoftGraphPresenceAppApi: { id: 'app', name: 'Graph' } },
	};
	const pollOnce = async (staticData: IDataObject) =>
		await runPoll({
			workflow: { id: `bench-${by}-${count}`, nodes: [node], connections: {}, staticData },
			nodeTypes: { [node.type]: new built.MicrosoftGraphPresenceTrigger() },
			credentialTypes: [new built.MicrosoftGraphPresenceAppApi()],
			credentials: {
				app: { type: 'microsoftGraphPresenceAppApi', data: appSecretData(emu, app) },
			},
			node: node.name,
			mode: 'trigger',
		});
	// Names are looked up within the app's budget, a slice at a time: polls that run out of time are
	// skipped and the next one goes on, so the baseline is the first poll that got through.
	let first = await pollOnce({});
	for (let polls = 1; !first.error && first.items === null && skipped(first.staticData); polls++) {
		if (polls > 100) throw new Error('the names were not looked up within 100 polls');
		first = await pollOnce(first.staticData);
	}
	if (first.error) throw first.error;
	const baseline = JSON.stringify(first.staticData).length;
	// A tenth of the users change.
	for (const user of users.filter((_, index) => index % 10 === 0)) {
		emu.setPresence(user.id, { availability: 'Away', activity: 'Away' });
	}
	const second = await pollOnce(first.staticData);
	if (second.error) throw second.error;
	return { baseline, afterChanges: JSON.stringify(second.staticData).length };
}

async function main(): Promise<void> {
	const lines = [
		'# Static data the polling trigger keeps',
		'',
		`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. The saved JSON of the workflow's static data (n8n writes it whole whenever it changes).`,
		'',
		'| watched users | named by | after the baseline poll | after a poll with changes | per watched user |',
		'|---:|---|---:|---:|---:|',
	];
	for (const count of SIZES) {
		for (const by of ['id', 'name'] as const) {
			const emu = await GraphEmulator.start({ seed: 5, throttle: false });
			try {
				emu.addUsers(count);
				const { baseline, afterChanges } = await measure(emu, count, by);
				const row = `| ${count.toLocaleString('en-US')} | ${by === 'id' ? 'object id' : 'user principal name'} | ${(baseline / 1024).toFixed(0)} KB | ${(afterChanges / 1024).toFixed(0)} KB | ${Math.round(afterChanges / count)} B |`;
				lines.push(row);
				process.stdout.write(`${row}\n`);
			} finally {
				await emu.stop();
			}
		}
	}
	const dir = join(__dirname, 'results');
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, 'staticData.md'), `${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(
		`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
	);
	process.exit(1);
});
