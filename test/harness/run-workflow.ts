import { captureLogs } from './environment';

import { ExecutionLifecycleHooks, ExternalSecretsProxy, WorkflowExecute } from 'n8n-core';
import type {
	ExecutionError,
	ICredentialDataDecryptedObject,
	ICredentialType,
	IConnections,
	IDataObject,
	INode,
	INodeExecutionData,
	IPinData,
	IRun,
	ITaskData,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { UnexpectedError, Workflow, deepCopy } from 'n8n-workflow';

import { CredentialTypeRegistry } from './credential-types';
import type { CredentialUpdate, HarnessCredential } from './credentials-helper';
import { HarnessCredentialsHelper } from './credentials-helper';
import type { NodeTypeMap } from './node-types';
import { NodeTypeRegistry } from './node-types';

/** Workflow JSON as n8n exports it; only `nodes` and `connections` are required. */
export interface HarnessWorkflow {
	id?: string;
	name?: string;
	nodes: INode[];
	connections: IConnections;
	settings?: IWorkflowSettings;
	staticData?: IDataObject;
	pinData?: IPinData;
}

export interface RunWorkflowOptions {
	workflow: HarnessWorkflow;
	/** Node types by their workflow JSON type name, e.g. `n8n-nodes-msgraph-presence.microsoftGraphPresence`. */
	nodeTypes?: NodeTypeMap;
	/** Credential type instances; `oAuth2Api` is built in. */
	credentialTypes?: ICredentialType[];
	/** Stored credentials by id, the id the workflow's nodes reference in `credentials.<type>.id`. */
	credentials?: Record<string, HarnessCredential>;
	/** Defaults to the workflow's trigger (n8n's own choice of start node). */
	startNode?: string;
	/** Runs only this node and what it needs, like "Execute step" in the editor. */
	destinationNode?: string;
	/** Aborting cancels the execution, as the editor's stop button does. */
	signal?: AbortSignal;
	/** Default `manual`. */
	mode?: WorkflowExecuteMode;
	/** n8n's credential overwrites by credential type name; see `CredentialsHelperOptions.overwrites`. */
	credentialOverwrites?: Record<string, ICredentialDataDecryptedObject>;
	/** Where n8n's production webhooks live (a test's own HTTP host for webhook triggers). */
	webhookBaseUrl?: string;
	/** See `CredentialsHelperOptions.pinHiddenOAuthFields`. Default `true`. */
	pinHiddenOAuthFields?: boolean;
}

export interface RunWorkflowResult {
	/** Everything n8n records about the run. */
	data: IRun;
	/** The run's error, if the execution failed or was cancelled. */
	error: ExecutionError | undefined;
	/** Items on one output of the node's last run; throws if the node never ran. */
	output(nodeName: string, outputIndex?: number): INodeExecutionData[];
	/** All runs of a node (empty if it never ran). */
	runs(nodeName: string): ITaskData[];
	/** The error of the node's last run, if it failed. */
	nodeError(nodeName: string): ExecutionError | undefined;
	/** Node names in the order they finished. */
	executedNodes: string[];
	/** The credentials store after the run, decrypted: refreshed OAuth2 tokens show up here. */
	credentials: Record<string, HarnessCredential>;
	/** Writes to the credentials store during the run, in order. */
	credentialUpdates: readonly CredentialUpdate[];
	/** Everything logged through n8n's logger during the run (engine, n8n-core, nodes' `this.logger`). */
	logs: string[];
	/** The workflow's static data after the run. */
	staticData: IDataObject;
}

const BASE_URL = 'http://localhost:5678';
let executionCounter = 0;

function notInHarness(what: string): () => Promise<never> {
	return async () => {
		throw new UnexpectedError(`${what} is not available in the test harness`);
	};
}

/** The workflow, credentials and `additionalData` n8n-core needs, built the way n8n builds them for a run. */
export async function buildEnvironment(options: RunWorkflowOptions) {
	const mode = options.mode ?? 'manual';
	const source = deepCopy(options.workflow);
	const workflowId = source.id ?? 'harness-workflow';
	const workflowName = source.name ?? 'Harness workflow';
	const settings: IWorkflowSettings = { executionOrder: 'v1', ...source.settings };
	const executionId = `harness-${++executionCounter}`;

	const credentialTypes = new CredentialTypeRegistry(options.credentialTypes ?? []);
	const credentialsHelper = await HarnessCredentialsHelper.create(
		credentialTypes,
		options.credentials ?? {},
		{
			overwrites: options.credentialOverwrites,
			pinHiddenOAuthFields: options.pinHiddenOAuthFields,
		},
	);
	const nodeTypes = new NodeTypeRegistry(options.nodeTypes ?? {});

	const workflow = new Workflow({
		id: workflowId,
		name: workflowName,
		nodes: source.nodes,
		connections: source.connections,
		active: false,
		nodeTypes,
		staticData: source.staticData ?? {},
		settings,
		pinData: source.pinData,
	});

	const now = new Date();
	const workflowData: IWorkflowBase = {
		id: workflowId,
		name: workflowName,
		active: false,
		isArchived: false,
		activeVersionId: null,
		createdAt: now,
		updatedAt: now,
		nodes: source.nodes,
		connections: source.connections,
		settings,
		staticData: source.staticData,
		pinData: source.pinData,
	};
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	const executedNodes: string[] = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName) => {
		executedNodes.push(nodeName);
	});

	const additionalData: IWorkflowExecuteAdditionalData = {
		credentialsHelper,
		hooks,
		executionId,
		workflowId,
		userId: 'harness-user',
		currentNodeExecutionIndex: 0,
		restApiUrl: `${BASE_URL}/rest`,
		instanceBaseUrl: `${BASE_URL}/`,
		formBaseUrl: `${BASE_URL}/form`,
		formWaitingBaseUrl: `${BASE_URL}/form-waiting`,
		formTestBaseUrl: `${BASE_URL}/form-test`,
		webhookBaseUrl: options.webhookBaseUrl ?? `${BASE_URL}/webhook`,
		webhookWaitingBaseUrl: `${BASE_URL}/webhook-waiting`,
		webhookTestBaseUrl: `${BASE_URL}/webhook-test`,
		mcpBaseUrl: `${BASE_URL}/mcp`,
		mcpTestBaseUrl: `${BASE_URL}/mcp-test`,
		variables: {},
		// No secrets provider is configured, so `$secrets` lists nothing, as on an n8n without external secrets.
		externalSecretsProxy: new ExternalSecretsProxy(),
		executeWorkflow: notInHarness('executeWorkflow (sub-workflows)'),
		getRunExecutionData: notInHarness('getRunExecutionData'),
		getRuntimeCredential: notInHarness('getRuntimeCredential'),
		startRunnerTask: notInHarness('startRunnerTask (task runners)'),
		logAiEvent: () => undefined,
	};
	return { mode, source, workflow, additionalData, credentialsHelper, executedNodes };
}

/** Executes workflow JSON through n8n-core's `WorkflowExecute`, the engine n8n itself runs. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<RunWorkflowResult> {
	const { mode, source, workflow, additionalData, credentialsHelper, executedNodes } =
		await buildEnvironment(options);

	const startNode =
		options.startNode === undefined ? undefined : workflow.getNode(options.startNode);
	if (startNode === null)
		throw new UnexpectedError(`Start node "${options.startNode ?? ''}" is not in the workflow`);
	if (options.destinationNode !== undefined && workflow.getNode(options.destinationNode) === null) {
		throw new UnexpectedError(
			`Destination node "${options.destinationNode}" is not in the workflow`,
		);
	}

	const logs: string[] = [];
	const { signal } = options;
	const data: IRun = await captureLogs(logs, async () => {
		const execution = new WorkflowExecute(additionalData, mode).run({
			workflow,
			startNode,
			destinationNode:
				options.destinationNode === undefined
					? undefined
					: { nodeName: options.destinationNode, mode: 'inclusive' },
			pinData: source.pinData,
		});
		const cancel = (): void => execution.cancel();
		signal?.addEventListener('abort', cancel, { once: true });
		if (signal?.aborted === true) cancel();
		try {
			return await execution;
		} finally {
			signal?.removeEventListener('abort', cancel);
		}
	});

	const runData = data.data.resultData.runData;
	const error = data.data.resultData.error;
	const runs = (nodeName: string): ITaskData[] => runData[nodeName] ?? [];

	return {
		data,
		error,
		runs,
		executedNodes,
		output(nodeName: string, outputIndex = 0): INodeExecutionData[] {
			const nodeRuns = runs(nodeName);
			const last = nodeRuns[nodeRuns.length - 1];
			if (last === undefined) {
				const ran = Object.keys(runData).join(', ') || 'none';
				const why = error === undefined ? '' : ` The run failed: ${error.message}`;
				throw new UnexpectedError(`Node "${nodeName}" did not run (nodes that ran: ${ran}).${why}`);
			}
			return last.data?.main?.[outputIndex] ?? [];
		},
		nodeError(nodeName: string): ExecutionError | undefined {
			const nodeRuns = runs(nodeName);
			return nodeRuns[nodeRuns.length - 1]?.error;
		},
		credentials: await credentialsHelper.snapshot(),
		credentialUpdates: credentialsHelper.updates,
		logs,
		staticData: workflow.staticData,
	};
}
