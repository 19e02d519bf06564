/**
 * One measured case of the benchmark, in a fresh process (forked by bench.ts with --expose-gc): builds the
 * workflow, runs it once to warm up (same app: token cached, code compiled), tells the coordinator, which clears
 * the emulator's log, then runs it measured and sends back what it cost and what came out.
 */
import { performance } from 'node:perf_hooks';

import type {
	ICredentialType,
	INode,
	INodeParameters,
	INodeType,
	IVersionedNodeType,
} from 'n8n-workflow';

import {
	HARNESS_ITEMS_TYPE,
	MANUAL_TRIGGER_TYPE,
	runWorkflow,
	type HarnessCredential,
	type HarnessWorkflow,
} from '../harness';
import {
	BENCH_CLIENT_TYPE,
	benchGraphClient,
	idLists,
	measuredNode,
	type ClientTally,
} from './benchNodes';
import { loadBuilt } from './built';
import { Probe, gcAvailable, type Measurement } from './measure';

export type CaseKind = 'node' | 'client' | 'httpGet' | 'httpPost';

export interface CaseSpec {
	kind: CaseKind;
	/** How the ids reach the node: one input item per id (`{{ $json.id }}`), or one item holding the list. */
	shape: 'itemPerId' | 'oneList';
	graphBaseUrl: string;
	loginBaseUrl: string;
	tenantId: string;
	clientId: string;
	clientSecret: string;
	/** HTTP Request cases: n8n-nodes-base's HttpRequest.node.js, and its batching. */
	httpRequestNodeFile?: string;
	httpBatch?: { size: number; intervalMs: number };
	/** Include User Details (node cases). */
	details?: boolean;
}

export type CoordinatorMessage =
	| { type: 'case'; spec: CaseSpec; ids: string[]; warmUpIds: string[] }
	| { type: 'go' };

export interface CaseOutcome {
	outputItems: number;
	/** Distinct requested ids that came out with a presence, marked not found, or as an error item. */
	presences: number;
	notFound: number;
	errors: number;
	duplicates: number;
	/** Requested ids that appear nowhere in the output. */
	missing: number;
	/** Output items whose id was never asked for. */
	unexpected: number;
	/** Presences that came with the user's display name (Include User Details). */
	named: number;
	tally?: ClientTally;
}

export type WorkerMessage =
	| { type: 'warmedUp'; warmUpMs: number; warmUpError: string | null }
	| {
			type: 'done';
			measurement: Measurement | null;
			runWallMs: number;
			error: string | null;
			outcome: CaseOutcome;
			gc: boolean;
	  };

const HTTP_TYPE = 'n8n-nodes-base.httpRequest';
const PRESENCE_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresence';
/** From the dist/ snapshot bench.ts took (BENCH_DIST), else dist/. */
const built = loadBuilt();

function reply(message: WorkerMessage): Promise<void> {
	return new Promise((resolve, reject) => {
		if (!process.send) {
			reject(new Error('worker.ts runs as a child of bench.ts'));
			return;
		}
		process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
	});
}

function nextMessage(): Promise<CoordinatorMessage> {
	return new Promise((resolve) =>
		process.once('message', (message: CoordinatorMessage) => resolve(message)),
	);
}

/** A node of a case's workflow; `caseWorkflow` gives it its id and position. */
type NodeSpec = Omit<INode, 'id' | 'position'>;

const APP_CREDENTIAL = { microsoftGraphPresenceAppApi: { id: 'app', name: 'Graph app' } };
const OAUTH2_CREDENTIAL = { oAuth2Api: { id: 'oauth', name: 'Graph (generic OAuth2)' } };

const start: NodeSpec = {
	name: 'Start',
	type: MANUAL_TRIGGER_TYPE,
	typeVersion: 1,
	parameters: {},
};

function itemsNode(items: Array<Record<string, unknown>>): NodeSpec {
	return {
		name: 'Items',
		type: HARNESS_ITEMS_TYPE,
		typeVersion: 1,
		parameters: { items: JSON.stringify(items) },
	};
}

/** n8n's HTTP Request with n8n's generic OAuth2 credential: how users call Graph without this package. */
function httpRequest(parameters: INodeParameters): NodeSpec {
	return {
		name: 'HTTP Request',
		type: HTTP_TYPE,
		typeVersion: 4.2,
		parameters: {
			authentication: 'genericCredentialType',
			genericAuthType: 'oAuth2Api',
			...parameters,
		},
		credentials: OAUTH2_CREDENTIAL,
	};
}

interface CaseWorkflow {
	workflow: HarnessWorkflow;
	/** The measured node: the last one. */
	nodeName: string;
}

/** Start → the given nodes, each feeding the next. */
function caseWorkflow(...nodes: NodeSpec[]): CaseWorkflow {
	const all = [start, ...nodes].map(
		(node, index): INode => ({ ...node, id: String(index), position: [index * 200, 0] }),
	);
	const connections: HarnessWorkflow['connections'] = {};
	for (let i = 0; i + 1 < all.length; i++)
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	return { workflow: { nodes: all, connections }, nodeName: all[all.length - 1].name };
}

function build(spec: CaseSpec, ids: readonly string[], key: string): CaseWorkflow {
	switch (spec.kind) {
		case 'node':
			return caseWorkflow(
				itemsNode(spec.shape === 'itemPerId' ? ids.map((id) => ({ id })) : [{ ids }]),
				{
					name: 'Presence',
					type: PRESENCE_TYPE,
					typeVersion: 1,
					parameters: {
						authentication: 'application',
						operation: 'getMany',
						userIds: spec.shape === 'itemPerId' ? '={{ $json.id }}' : '={{ $json.ids }}',
						...(spec.details ? { options: { includeUserDetails: true, simplify: true } } : {}),
					},
					credentials: APP_CREDENTIAL,
				},
			);
		case 'client':
			idLists.set(key, ids);
			return caseWorkflow({
				name: 'Client',
				type: BENCH_CLIENT_TYPE,
				typeVersion: 1,
				parameters: { idsKey: key },
				credentials: APP_CREDENTIAL,
			});
		case 'httpGet': {
			const batch = spec.httpBatch ?? { size: 50, intervalMs: 1000 };
			return caseWorkflow(
				itemsNode(ids.map((id) => ({ id }))),
				httpRequest({
					url: `={{ "${spec.graphBaseUrl}/v1.0/users/" + $json.id + "/presence" }}`,
					options: {
						batching: { batch: { batchSize: batch.size, batchInterval: batch.intervalMs } },
					},
				}),
			);
		}
		case 'httpPost':
			return caseWorkflow(
				itemsNode([{ ids }]),
				httpRequest({
					method: 'POST',
					url: `${spec.graphBaseUrl}/v1.0/communications/getPresencesByUserId`,
					sendBody: true,
					specifyBody: 'json',
					jsonBody: '={{ { ids: $json.ids } }}',
					options: {},
				}),
			);
	}
}

function credentialsFor(spec: CaseSpec): Record<string, HarnessCredential> {
	return {
		app: {
			type: 'microsoftGraphPresenceAppApi',
			name: 'Graph app',
			data: {
				cloud: 'custom',
				graphBaseUrl: spec.graphBaseUrl,
				loginBaseUrl: spec.loginBaseUrl,
				tenantId: spec.tenantId,
				clientId: spec.clientId,
				authMethod: 'secret',
				clientSecret: spec.clientSecret,
			},
		},
		// What an HTTP Request node user sets up: n8n's generic OAuth2 credential, client credentials grant.
		oauth: {
			type: 'oAuth2Api',
			name: 'Graph (generic OAuth2)',
			data: {
				grantType: 'clientCredentials',
				accessTokenUrl: `${spec.loginBaseUrl}/${spec.tenantId}/oauth2/v2.0/token`,
				clientId: spec.clientId,
				clientSecret: spec.clientSecret,
				scope: `${spec.graphBaseUrl}/.default`,
				authentication: 'body',
			},
		},
	};
}

function innerNode(spec: CaseSpec): INodeType {
	if (spec.kind === 'node') return new built.MicrosoftGraphPresence();
	if (spec.kind === 'client') return benchGraphClient(built);
	if (spec.httpRequestNodeFile === undefined)
		throw new Error('HTTP Request cases need n8n-nodes-base');
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const { HttpRequest } = require(spec.httpRequestNodeFile) as {
		HttpRequest: new () => IVersionedNodeType;
	};
	return new HttpRequest().getNodeType(4.2);
}

function tallyOutput(
	items: ReadonlyArray<{ json: Record<string, unknown> }>,
	ids: readonly string[],
	kind: CaseKind,
): CaseOutcome {
	const outcome: CaseOutcome = {
		outputItems: items.length,
		presences: 0,
		notFound: 0,
		errors: 0,
		duplicates: 0,
		missing: 0,
		unexpected: 0,
		named: 0,
	};
	if (kind === 'client') {
		const tally = items[0]?.json as unknown as ClientTally | undefined;
		if (tally) {
			outcome.tally = tally;
			outcome.presences = tally.presences;
			outcome.notFound = tally.missing;
			outcome.errors = tally.failed;
			outcome.missing = tally.ids - tally.presences - tally.missing - tally.failed;
		}
		return outcome;
	}
	if (kind === 'httpPost') {
		const value = items[0]?.json.value;
		outcome.presences = Array.isArray(value) ? value.length : 0;
		outcome.missing = ids.length - outcome.presences;
		return outcome;
	}
	const wanted = new Set(ids.map((id) => id.toLowerCase()));
	const seen = new Set<string>();
	for (const { json } of items) {
		const id = typeof json.id === 'string' ? json.id.toLowerCase() : '';
		if (!wanted.has(id)) {
			outcome.unexpected++;
			continue;
		}
		if (seen.has(id)) {
			outcome.duplicates++;
			continue;
		}
		seen.add(id);
		if (json.error !== undefined) outcome.errors++;
		else if (json.notFound === true) outcome.notFound++;
		else if (typeof json.availability === 'string') {
			outcome.presences++;
			if (typeof json.displayName === 'string') outcome.named++;
		}
	}
	outcome.missing = wanted.size - seen.size;
	return outcome;
}

async function main(): Promise<void> {
	const first = await nextMessage();
	if (first.type !== 'case') throw new Error('expected a case');
	const { spec, ids, warmUpIds } = first;
	const probe = new Probe();
	const inner = innerNode(spec);
	const typeName =
		spec.kind === 'node' ? PRESENCE_TYPE : spec.kind === 'client' ? BENCH_CLIENT_TYPE : HTTP_TYPE;
	const credentialTypes: ICredentialType[] = [
		new built.MicrosoftGraphPresenceAppApi(),
		new built.MicrosoftGraphPresenceOAuth2Api(),
	];

	// Warm-up: the same workflow over a few ids, same app (token cached, JIT warm), not measured.
	const warm = build(spec, warmUpIds, 'warm');
	const warmStarted = performance.now();
	const warmRun = await runWorkflow({
		workflow: warm.workflow,
		nodeTypes: { [typeName]: inner },
		credentialTypes,
		credentials: credentialsFor(spec),
	});
	// The generic OAuth2 credential stored its token during the warm-up: keep it, as n8n would.
	const credentials = warmRun.credentials;
	await reply({
		type: 'warmedUp',
		warmUpMs: performance.now() - warmStarted,
		warmUpError: warmRun.error?.message ?? null,
	});
	idLists.delete('warm');

	const go = await nextMessage();
	if (go.type !== 'go') throw new Error('expected go');
	const measured = build(spec, ids, 'measured');
	const runStarted = performance.now();
	const result = await runWorkflow({
		workflow: measured.workflow,
		nodeTypes: { [typeName]: measuredNode(inner, probe) },
		credentialTypes,
		credentials,
	});
	const runWallMs = performance.now() - runStarted;
	const error = result.error
		? `${result.error.message}${result.error.description ? ` — ${result.error.description}` : ''}`
		: null;
	const items = result.runs(measured.nodeName).length > 0 ? result.output(measured.nodeName) : [];
	await reply({
		type: 'done',
		measurement: probe.result ?? null,
		runWallMs,
		error,
		outcome: tallyOutput(items, ids, spec.kind),
		gc: gcAvailable(),
	});
	process.disconnect();
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
