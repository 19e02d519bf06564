import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import type { Built } from './built';
import type { Probe } from './measure';

export const BENCH_CLIENT_TYPE = 'bench.graphClient';

/**
 * Id lists the bench client node reads by key: a million ids do not go through a workflow parameter. They exist
 * before the measured run starts, like the ids a real workflow would already hold.
 */
export const idLists = new Map<string, readonly string[]>();

export interface ClientTally {
	ids: number;
	batches: number;
	presences: number;
	/** Ids of successful batches that Graph did not return. */
	missing: number;
	/** Ids of batches that failed after retries. */
	failed: number;
	firstError: string | null;
	clientStats: { requests: number; retries: number; throttled: number; tokenRefreshes: number };
}

/**
 * "The client alone": inside n8n's engine (its execute context, credentials and HTTP helpers), hands every id to
 * the built getManyPresences — the call Get Many makes, so each request takes the node's code
 * path: 650 ids a request, the shared throttle, concurrency, retries — and matches the answers by id as Get Many
 * does. It puts out one summary item instead of one item per user.
 */
export function benchGraphClient({
	GraphClient,
	getManyPresences,
	indexById,
}: Pick<Built, 'GraphClient' | 'getManyPresences' | 'indexById'>): INodeType {
	const description: INodeTypeDescription = {
		displayName: 'Bench Graph Client',
		name: 'graphClient',
		group: ['transform'],
		version: 1,
		description: 'Reads the presence of a prepared id list with the Graph client alone',
		defaults: { name: 'Client' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'microsoftGraphPresenceAppApi', required: true }],
		properties: [{ displayName: 'IDs Key', name: 'idsKey', type: 'string', default: '' }],
	};
	return {
		description,
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const key = this.getNodeParameter('idsKey', 0) as string;
			const ids = idLists.get(key);
			if (ids === undefined) throw new NodeOperationError(this.getNode(), `No id list "${key}"`);
			const client = await GraphClient.create(this, 'application', {});
			const tally: ClientTally = {
				ids: ids.length,
				batches: 0,
				presences: 0,
				missing: 0,
				failed: 0,
				firstError: null,
				clientStats: { requests: 0, retries: 0, throttled: 0, tokenRefreshes: 0 },
			};
			// Answers are matched as they arrive, while later requests are on the way, as Get Many does.
			await getManyPresences(
				client,
				ids,
				(id) => id,
				(batch) => {
					tally.batches++;
					if (batch.result instanceof Error) {
						tally.failed += batch.users.length;
						tally.firstError ??= batch.result.message;
						return;
					}
					const byId = indexById(batch.result);
					for (const id of batch.users) {
						if (byId.has(id)) tally.presences++;
						else tally.missing++;
					}
				},
			);
			tally.clientStats = { ...client.stats };
			return [[{ json: { ...tally } }]];
		},
	};
}

/**
 * The same node type, with its execute() measured by `probe`: wall time, CPU and memory of exactly this node's
 * run inside the engine (not the nodes before it, not the engine's start).
 */
export function measuredNode(inner: INodeType, probe: Probe): INodeType {
	const execute = inner.execute;
	if (execute === undefined) throw new Error(`${inner.description.name} has no execute()`);
	return {
		description: inner.description,
		methods: inner.methods,
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][] | null> {
			probe.start();
			try {
				const result: unknown = await execute.call(this);
				return result as INodeExecutionData[][] | null;
			} finally {
				probe.stop();
			}
		},
	};
}
