import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';

import { HookContext, TriggerContext, WebhookContext } from 'n8n-core';
import type {
	IDataObject,
	INode,
	INodeExecutionData,
	IWebhookData,
	IWebhookDescription,
	SchedulingFunctions,
	WorkflowActivateMode,
} from 'n8n-workflow';
import { UnexpectedError } from 'n8n-workflow';

import type { HarnessCredential } from './credentials-helper';
import { captureLogs } from './environment';
import { buildEnvironment, type RunWorkflowOptions } from './run-workflow';

/**
 * One n8n process, reduced to what a webhook trigger meets: its webhook served on a real 127.0.0.1 port (so Graph,
 * here the emulator, can call it), n8n-core's HookContext for checkExists/create/delete, TriggerContext for
 * trigger() with its schedule captured, and WebhookContext for every request.
 *
 * Static data is handled as n8n (2.41.1 and 1.123.x, read from their sources) handles it for an active workflow:
 * the database holds the saved copy; activation and trigger() share one workflow object, whose static data is saved
 * after activation and whenever trigger() emits; every webhook request gets its own workflow object loaded from the
 * database when the request arrives, saved when the node's webhook() has returned. Last write wins, as in n8n.
 */

export interface WebhookHost {
	/** The node's production webhook URL. */
	webhookUrl: string;
	/** Runs one of the node's webhook methods as n8n does on activation and deactivation. */
	hook(
		method: 'checkExists' | 'create' | 'delete',
		activation?: WorkflowActivateMode,
	): Promise<boolean>;
	/** Calls trigger() as n8n does on activation; returns the scheduled ticks it registered. */
	activateTrigger(): Promise<Array<{ expression: string; tick: () => Promise<void> }>>;
	/** Items the webhook or the schedule handed to n8n (each a workflow run). */
	runs: INodeExecutionData[][];
	/** Where each run came from. */
	runSources: Array<'webhook' | 'schedule'>;
	/** What trigger() reported through n8n's error path (emitError, saveFailedExecution). */
	errors: Array<{ kind: 'emitError' | 'saveFailedExecution'; message: string }>;
	/** Every request the host received and what it answered. */
	requests: Array<{ query: Record<string, string>; body: unknown; status: number; text: string }>;
	/** Resolves once the node has finished with every request received so far (it may answer before it is done). */
	idle(): Promise<void>;
	/** The static data as saved in the database. */
	staticData(): IDataObject;
	/** As another n8n process would: its copy of the static data saved to the database (last write wins). */
	saveStaticData(data: IDataObject): void;
	/** As if n8n restarted: the activation workflow object is loaded again from the database. */
	restart(): Promise<void>;
	/** As if the credential was edited in n8n: every context reads the new data from now on. */
	setCredential(id: string, credential: HarnessCredential): Promise<void>;
	logs: string[];
	close(): Promise<void>;
}

interface ExpressLikeResponse {
	statusCode: number;
	sent: boolean;
	status(code: number): ExpressLikeResponse;
	set(headers: Record<string, string>): ExpressLikeResponse;
	setHeader(name: string, value: string): ExpressLikeResponse;
	type(value: string): ExpressLikeResponse;
	send(body?: string): ExpressLikeResponse;
	json(body: unknown): ExpressLikeResponse;
	end(body?: string): ExpressLikeResponse;
}

function expressResponse(
	res: ServerResponse,
	record: (status: number, text: string) => void,
): ExpressLikeResponse {
	const wrapper: ExpressLikeResponse = {
		statusCode: 200,
		sent: false,
		status(code) {
			wrapper.statusCode = code;
			return wrapper;
		},
		set(headers) {
			for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
			return wrapper;
		},
		setHeader(name, value) {
			res.setHeader(name, value);
			return wrapper;
		},
		type(value) {
			res.setHeader('Content-Type', value);
			return wrapper;
		},
		send(body = '') {
			return wrapper.end(body);
		},
		json(body) {
			res.setHeader('Content-Type', 'application/json');
			return wrapper.end(JSON.stringify(body));
		},
		end(body = '') {
			if (wrapper.sent) return wrapper;
			wrapper.sent = true;
			res.statusCode = wrapper.statusCode;
			res.end(body);
			record(wrapper.statusCode, body);
			return wrapper;
		},
	};
	return wrapper;
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

function clone(data: IDataObject): IDataObject {
	return JSON.parse(JSON.stringify(data)) as IDataObject;
}

export async function startWebhookHost(
	options: RunWorkflowOptions & { node: string },
): Promise<WebhookHost> {
	const server: Server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	const webhookBaseUrl = `http://127.0.0.1:${port}/webhook`;
	const environment = async (staticData: IDataObject) =>
		await buildEnvironment({
			...options,
			workflow: { ...options.workflow, staticData },
			webhookBaseUrl,
			mode: 'webhook',
		});
	/** The database's copy of the workflow's static data. */
	let saved: IDataObject = clone(options.workflow.staticData ?? {});
	const save = (data: IDataObject) => {
		if (data.__dataChanged !== true) return;
		saved = clone(data);
		data.__dataChanged = false;
	};
	let { workflow, additionalData } = await environment(clone(saved));
	const found = workflow.getNode(options.node);
	if (found === null) throw new UnexpectedError(`Node "${options.node}" is not in the workflow`);
	const node: INode = found;
	const nodeType = workflow.nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
	const description = nodeType.description.webhooks?.[0] as IWebhookDescription | undefined;
	if (!description || !nodeType.webhook)
		throw new UnexpectedError(`Node "${options.node}" has no webhook`);
	const path = `${node.webhookId ?? workflow.id}/${String(description.path)}`;
	const webhookData: IWebhookData = {
		httpMethod: 'POST',
		node: node.name,
		path,
		webhookDescription: description,
		workflowId: workflow.id,
		workflowExecuteAdditionalData: additionalData,
		webhookId: node.webhookId,
	};
	const logs: string[] = [];
	const runs: INodeExecutionData[][] = [];
	const runSources: WebhookHost['runSources'] = [];
	const errors: WebhookHost['errors'] = [];
	const requests: WebhookHost['requests'] = [];
	const webhook = nodeType.webhook;
	let inFlight = 0;
	let idleWaiters: Array<() => void> = [];
	const settled = () => {
		inFlight -= 1;
		if (inFlight > 0) return;
		for (const wake of idleWaiters) wake();
		idleWaiters = [];
	};

	server.on('request', (req: IncomingMessage, res: ServerResponse) => {
		inFlight += 1;
		void (async () => {
			const url = new URL(req.url ?? '/', webhookBaseUrl);
			const text = await readBody(req);
			let body: unknown = {};
			try {
				body = text ? (JSON.parse(text) as unknown) : {};
			} catch {
				body = {};
			}
			const query = Object.fromEntries(url.searchParams.entries());
			const entry = { query, body, status: 0, text: '' };
			requests.push(entry);
			const response = expressResponse(res, (status, sent) => {
				entry.status = status;
				entry.text = sent;
			});
			const request = {
				method: req.method,
				url: req.url,
				query,
				body,
				headers: req.headers,
				params: {},
			};
			// Each request: its own workflow object, its static data loaded from the database now.
			const execution = await environment(clone(saved));
			const context = new WebhookContext(
				execution.workflow,
				node,
				{
					...execution.additionalData,
					httpRequest: request as never,
					httpResponse: response as never,
				},
				'webhook',
				webhookData,
				[],
				null,
			);
			try {
				const result = await captureLogs(logs, async () => await webhook.call(context));
				save(execution.workflow.staticData);
				if (result.workflowData?.[0]?.length) {
					runs.push(result.workflowData[0]);
					runSources.push('webhook');
				}
				if (!response.sent) response.status(200).end();
			} catch (error) {
				logs.push(`webhook failed: ${error instanceof Error ? error.message : String(error)}`);
				if (!response.sent) response.status(500).end();
			}
		})().finally(settled);
	});

	return {
		webhookUrl: `${webhookBaseUrl}/${path}`,
		async hook(method, activation = 'activate') {
			const fn = nodeType.webhookMethods?.default?.[method];
			if (!fn) throw new UnexpectedError(`No webhook method ${method}`);
			const context = new HookContext(
				workflow,
				node,
				additionalData,
				'trigger',
				activation,
				webhookData,
			);
			const result = await captureLogs(logs, async () => (await fn.call(context)) as boolean);
			save(workflow.staticData);
			return result;
		},
		async activateTrigger() {
			const ticks: Array<{ expression: string; tick: () => Promise<void> }> = [];
			// The schedule is n8n's to run; here each registered tick is handed to the test to fire.
			const scheduling: SchedulingFunctions = {
				registerCron: ({ expression }, onTick) => {
					ticks.push({
						expression: String(expression),
						// A node may return its tick's promise (n8n ignores it): then the test waits for the tick's work.
						tick: async () =>
							await captureLogs(logs, async () => {
								await (onTick(new Date()) as unknown);
							}),
					});
				},
			};
			const context = new TriggerContext(
				workflow,
				node,
				additionalData,
				'trigger',
				'activate',
				(data) => {
					// n8n saves the trigger's static data, then starts the run.
					save(workflow.staticData);
					if (data[0]?.length) {
						runs.push(data[0]);
						runSources.push('schedule');
					}
				},
				(error) => errors.push({ kind: 'emitError', message: error.message }),
				(error) => errors.push({ kind: 'saveFailedExecution', message: error.message }),
				scheduling,
			);
			if (!nodeType.trigger) throw new UnexpectedError('No trigger function');
			await nodeType.trigger.call(context);
			return ticks;
		},
		runs,
		runSources,
		errors,
		requests,
		idle: async () => {
			if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
		},
		staticData: () => clone(saved),
		saveStaticData: (data) => {
			saved = clone(data);
		},
		restart: async () => {
			({ workflow, additionalData } = await environment(clone(saved)));
		},
		setCredential: async (id, credential) => {
			options.credentials = { ...options.credentials, [id]: credential };
			// The schedule keeps the additional data it was activated with, as n8n's does; n8n reads the
			// credential from its database at each use, so the new data reaches it too.
			additionalData.credentialsHelper = (
				await environment(clone(saved))
			).additionalData.credentialsHelper;
		},
		logs,
		close: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
