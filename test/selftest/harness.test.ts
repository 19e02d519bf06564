/**
 * Proves the engine harness: workflows run through n8n-core's real `WorkflowExecute`, with n8n's real HTTP
 * helpers talking to a server on a real socket. The node and credential types here are test-only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { runWorkflow } from '../harness';
import type { HarnessCredential, HarnessWorkflow, RunWorkflowOptions } from '../harness';

// ---------------------------------------------------------------------------------------------------------
// A tiny service on 127.0.0.1

interface SeenRequest {
	method: string;
	path: string;
	headers: IncomingMessage['headers'];
	body: string;
}

const CLIENT_ID = 'client-id-1';
const CLIENT_SECRET = 'client-secret-never-logged';
const HEADER_SECRET = 'header-secret-never-logged';
const STALE_TOKEN = 'stale-access-token';
const FRESH_TOKEN = 'fresh-access-token';
const OLD_REFRESH_TOKEN = 'refresh-token-1';
const NEW_REFRESH_TOKEN = 'refresh-token-2';

let server: Server;
let baseUrl = '';
let seen: SeenRequest[] = [];
/** Every error the probe node caught, exactly as n8n-core threw it (the run data keeps only a copy). */
let caughtErrors: unknown[] = [];
/** Called when a request to /hang arrives; the response only comes after 3 s. */
let onHang: (request: IncomingMessage) => void = () => undefined;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req-42' });
	res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
	const url = new URL(req.url ?? '/', baseUrl);
	switch (url.pathname) {
		case '/echo':
			sendJson(res, 200, { query: Object.fromEntries(url.searchParams) });
			return;
		case '/header-protected':
			if (req.headers['x-api-key'] === HEADER_SECRET) sendJson(res, 200, { access: 'granted' });
			else sendJson(res, 401, { error: { code: 'Unauthorized', message: 'bad key' } });
			return;
		case '/oauth/token': {
			const form = new URLSearchParams(body);
			const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
			if (
				req.headers.authorization !== basic ||
				form.get('grant_type') !== 'refresh_token' ||
				form.get('refresh_token') !== OLD_REFRESH_TOKEN
			) {
				sendJson(res, 400, { error: 'invalid_grant' });
				return;
			}
			sendJson(res, 200, {
				access_token: FRESH_TOKEN,
				refresh_token: NEW_REFRESH_TOKEN,
				token_type: 'Bearer',
				expires_in: 3600,
			});
			return;
		}
		case '/api/me':
			if (req.headers.authorization === `Bearer ${FRESH_TOKEN}`)
				sendJson(res, 200, { id: url.searchParams.get('id') });
			else
				sendJson(res, 401, {
					error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired' },
				});
			return;
		case '/fail':
			sendJson(res, 500, { error: { code: 'InternalServerError', message: 'it broke' } });
			return;
		case '/throttled':
			res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
			res.end(JSON.stringify({ error: { code: 'TooManyRequests', message: 'slow down' } }));
			return;
		case '/reset':
			req.socket.destroy();
			return;
		case '/hang': {
			// Answers late rather than never, so a broken cancellation fails the test instead of hanging it.
			const late = setTimeout(() => sendJson(res, 200, { late: true }), 3000);
			req.socket.on('close', () => clearTimeout(late));
			onHang(req);
			return;
		}
		default:
			sendJson(res, 404, { error: { code: 'NotFound', message: url.pathname } });
	}
}

beforeAll(async () => {
	server = createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => (body += chunk));
		req.on('end', () => {
			seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
			handle(req, res, body);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise<void>((resolve, reject) =>
		server.close((error) => (error ? reject(error) : resolve())),
	);
});

beforeEach(() => {
	seen = [];
	caughtErrors = [];
	onHang = () => undefined;
});

// ---------------------------------------------------------------------------------------------------------
// Test-only credential and node types

class TestHeaderAuthApi implements ICredentialType {
	name = 'testHeaderAuthApi';

	displayName = 'Test Header Auth';

	properties: INodeTypeDescription['properties'] = [
		{ displayName: 'Header Name', name: 'headerName', type: 'string', default: 'X-Api-Key' },
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
	];

	authenticate = {
		type: 'generic' as const,
		properties: { headers: { '={{ $credentials.headerName }}': '={{ $credentials.apiKey }}' } },
	};
}

class TestOAuth2Api implements ICredentialType {
	name = 'testOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Test OAuth2';

	properties: INodeTypeDescription['properties'] = [
		{ displayName: 'Service URL', name: 'serviceUrl', type: 'string', default: '' },
		{ displayName: 'Grant Type', name: 'grantType', type: 'hidden', default: 'authorizationCode' },
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: '={{ $self.serviceUrl }}/oauth/authorize',
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: '={{ $self.serviceUrl }}/oauth/token',
		},
		{ displayName: 'Scope', name: 'scope', type: 'hidden', default: 'presence.read' },
		{ displayName: 'Authentication', name: 'authentication', type: 'hidden', default: 'header' },
	];
}

const PROBE_TYPE = 'harnessTest.probe';

/** One HTTP call per input item, through whichever n8n helper the `authentication` parameter picks. */
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool -- a test fixture, never offered to agents
class Probe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Probe',
		name: 'probe',
		group: ['transform'],
		version: 1,
		description: 'Calls a URL per item',
		defaults: { name: 'Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'testHeaderAuthApi',
				required: true,
				displayOptions: { show: { authentication: ['headerAuth'] } },
			},
			{
				name: 'testOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['oAuth2'] } },
			},
		],
		properties: [
			{
				displayName: 'Authentication',
				name: 'authentication',
				type: 'options',
				options: [
					{ name: 'None', value: 'none' },
					{ name: 'Header', value: 'headerAuth' },
					{ name: 'OAuth2', value: 'oAuth2' },
				],
				default: 'none',
			},
			{ displayName: 'URL', name: 'url', type: 'string', default: '' },
			{
				displayName: 'Request Options (JSON)',
				name: 'requestOptions',
				type: 'json',
				default: '{}',
			},
			{
				displayName: 'Send an Already Aborted Signal',
				name: 'abortedSignal',
				type: 'boolean',
				default: false,
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const authentication = this.getNodeParameter('authentication', 0) as string;
		const out: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const extra = JSON.parse(
				this.getNodeParameter('requestOptions', itemIndex) as string,
			) as IDataObject;
			const request: IHttpRequestOptions = {
				method: 'GET',
				url: this.getNodeParameter('url', itemIndex) as string,
				json: true,
				abortSignal: (this.getNodeParameter('abortedSignal', itemIndex) as boolean)
					? AbortSignal.abort()
					: this.getExecutionCancelSignal(),
				...extra,
			};
			try {
				const response: unknown =
					authentication === 'none'
						? await this.helpers.httpRequest(request)
						: await this.helpers.httpRequestWithAuthentication.call(
								this,
								authentication === 'oAuth2' ? 'testOAuth2Api' : 'testHeaderAuthApi',
								request,
							);
				out.push({ json: { response: response as IDataObject }, pairedItem: { item: itemIndex } });
			} catch (error) {
				caughtErrors.push(error);
				if (this.continueOnFail()) {
					const message = error instanceof Error ? error.message : String(error);
					out.push({ json: { error: message }, pairedItem: { item: itemIndex } });
					continue;
				}
				// eslint-disable-next-line @n8n/community-nodes/require-node-api-error -- it is one already
				if (error instanceof NodeApiError) throw error;
				throw new NodeOperationError(
					this.getNode(),
					error instanceof Error ? error : String(error),
					{ itemIndex },
				);
			}
		}
		return [out];
	}
}

// ---------------------------------------------------------------------------------------------------------
// Workflow builders: manual trigger → harness.items → probe

function flow(
	items: IDataObject[],
	probe: Partial<INode> & { parameters: INode['parameters'] },
): HarnessWorkflow {
	return {
		nodes: [
			{
				id: 'n1',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'n2',
				name: 'Items',
				type: 'harness.items',
				typeVersion: 1,
				position: [200, 0],
				parameters: { items: JSON.stringify(items) },
			},
			{ id: 'n3', name: 'Probe', type: PROBE_TYPE, typeVersion: 1, position: [400, 0], ...probe },
		],
		connections: {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: 'Probe', type: 'main', index: 0 }]] },
		},
	};
}

function run(
	workflow: HarnessWorkflow,
	credentials: Record<string, HarnessCredential> = {},
	extra: Partial<RunWorkflowOptions> = {},
): ReturnType<typeof runWorkflow> {
	return runWorkflow({
		workflow,
		nodeTypes: { [PROBE_TYPE]: new Probe() },
		credentialTypes: [new TestHeaderAuthApi(), new TestOAuth2Api()],
		credentials,
		...extra,
	});
}

function oauthCredential(): HarnessCredential {
	return {
		type: 'testOAuth2Api',
		name: 'Test OAuth2 account',
		data: {
			serviceUrl: baseUrl,
			clientId: CLIENT_ID,
			clientSecret: CLIENT_SECRET,
			// A stored value for a field the type declares hidden: n8n ignores it in favour of the type's default.
			accessTokenUrl: 'http://127.0.0.1:9/never-used',
			oauthTokenData: {
				access_token: STALE_TOKEN,
				refresh_token: OLD_REFRESH_TOKEN,
				token_type: 'Bearer',
			},
		},
	};
}

const oauthProbe = (
	url: string,
	requestOptions: IDataObject = {},
): Partial<INode> & { parameters: INode['parameters'] } => ({
	parameters: { authentication: 'oAuth2', url, requestOptions: JSON.stringify(requestOptions) },
	credentials: { testOAuth2Api: { id: 'oauth-1', name: 'Test OAuth2 account' } },
});

function json(items: INodeExecutionData[]): IDataObject[] {
	return items.map((item) => item.json);
}

// ---------------------------------------------------------------------------------------------------------

describe('runWorkflow (n8n-core WorkflowExecute in-process)', () => {
	it('passes items through, evaluates expressions and keeps pairedItem', async () => {
		const result = await run(
			flow([{ x: 'a' }, { x: 'b' }, { x: 'c' }], {
				parameters: {
					authentication: 'none',
					url: `=${baseUrl}/echo?x={{ $json.x }}&i={{ $itemIndex }}`,
				},
			}),
		);
		expect(result.error).toBeUndefined();
		expect(result.executedNodes).toEqual(['Start', 'Items', 'Probe']);
		expect(result.output('Start')).toEqual([{ json: {}, pairedItem: { item: 0 } }]);
		expect(result.output('Items').map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 0 },
			{ item: 0 },
		]);
		const probe = result.output('Probe');
		expect(json(probe)).toEqual([
			{ response: { query: { x: 'a', i: '0' } } },
			{ response: { query: { x: 'b', i: '1' } } },
			{ response: { query: { x: 'c', i: '2' } } },
		]);
		expect(probe.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(
			result.logs.some((line) => line.includes('Running node "Probe" finished successfully')),
		).toBe(true);
	});

	it('applies a generic header credential, with type defaults and $credentials expressions', async () => {
		const credentials = {
			'header-1': { type: 'testHeaderAuthApi', data: { apiKey: HEADER_SECRET } },
		};
		const result = await run(
			flow([{ n: 1 }], {
				parameters: { authentication: 'headerAuth', url: `${baseUrl}/header-protected` },
				credentials: { testHeaderAuthApi: { id: 'header-1', name: 'Header account' } },
			}),
			credentials,
		);
		expect(result.error).toBeUndefined();
		expect(json(result.output('Probe'))).toEqual([{ response: { access: 'granted' } }]);
		expect(seen).toHaveLength(1);
		expect(seen[0].headers['x-api-key']).toBe(HEADER_SECRET);
		expect(result.logs.join('\n')).not.toContain(HEADER_SECRET);
	});

	it('refreshes an expired OAuth2 token through the token URL, retries, and stores the new token', async () => {
		const result = await run(
			flow(
				[{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }],
				oauthProbe(`=${baseUrl}/api/me?id={{ $json.id }}`),
			),
			{ 'oauth-1': oauthCredential() },
		);

		expect(result.error).toBeUndefined();
		expect(json(result.output('Probe'))).toEqual([
			{ response: { id: 'u1' } },
			{ response: { id: 'u2' } },
			{ response: { id: 'u3' } },
		]);
		// One 401 with the stale token, one refresh, then every request carries the fresh token.
		expect(
			seen.map(
				(request) =>
					`${request.method} ${request.path.split('?')[0]} ${request.headers.authorization ?? ''}`,
			),
		).toEqual([
			`GET /api/me Bearer ${STALE_TOKEN}`,
			`POST /oauth/token Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
			`GET /api/me Bearer ${FRESH_TOKEN}`,
			`GET /api/me Bearer ${FRESH_TOKEN}`,
			`GET /api/me Bearer ${FRESH_TOKEN}`,
		]);
		expect(Object.fromEntries(new URLSearchParams(seen[1].body))).toEqual({
			grant_type: 'refresh_token',
			refresh_token: OLD_REFRESH_TOKEN,
		});

		const stored = result.credentials['oauth-1'].data.oauthTokenData as IDataObject;
		expect(stored).toMatchObject({
			access_token: FRESH_TOKEN,
			refresh_token: NEW_REFRESH_TOKEN,
			token_type: 'Bearer',
		});
		expect(typeof stored.n8n_expires_at).toBe('string');
		expect(result.credentialUpdates).toEqual([
			{ id: 'oauth-1', type: 'testOAuth2Api', kind: 'oauthTokenData' },
		]);

		const logText = result.logs.join('\n');
		expect(logText).toContain(
			'OAuth2 token for "testOAuth2Api" used by node "Probe" expired. Revalidating.',
		);
		for (const secret of [
			CLIENT_SECRET,
			STALE_TOKEN,
			FRESH_TOKEN,
			OLD_REFRESH_TOKEN,
			NEW_REFRESH_TOKEN,
		]) {
			expect(logText).not.toContain(secret);
		}
	});

	it('emits an error item per failed input with continueOnFail, keeping the others', async () => {
		const workflow = flow([{ path: 'echo' }, { path: 'fail' }, { path: 'echo' }], {
			parameters: { authentication: 'none', url: `=${baseUrl}/{{ $json.path }}` },
			onError: 'continueRegularOutput',
		});
		const result = await run(workflow);
		expect(result.error).toBeUndefined();
		const probe = result.output('Probe');
		expect(json(probe)).toEqual([
			{ response: { query: {} } },
			{ error: 'Request failed with status code 500' },
			{ response: { query: {} } },
		]);
		expect(probe.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);

		// Without continueOnFail the same input fails the run, and the error names the node.
		const failing = await run({
			...workflow,
			nodes: workflow.nodes.map((node) => ({ ...node, onError: undefined })),
		});
		expect(failing.error?.message).toContain('Request failed with status code 500');
		expect(failing.nodeError('Probe')?.message).toContain('Request failed with status code 500');
		expect(() => failing.output('Nope')).toThrow('Node "Nope" did not run');
	});

	it('cancels through the signal, and the cancellation reaches the request the node has in flight', async () => {
		const controller = new AbortController();
		let serverSawClose = false;
		onHang = (request) => {
			request.socket.on('close', () => (serverSawClose = true));
			controller.abort();
		};
		const started = Date.now();
		const result = await run(
			flow([{ n: 1 }, { n: 2 }], {
				parameters: { authentication: 'none', url: `${baseUrl}/hang` },
			}),
			{},
			{ signal: controller.signal },
		);
		expect(Date.now() - started).toBeLessThan(10_000);
		expect(result.data.status).toBe('canceled');
		expect(result.nodeError('Probe')?.message).toBe('canceled');
		expect(result.error?.message).toBe('canceled');
		expect(seen.map((request) => request.path)).toEqual(['/hang']);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(serverSawClose).toBe(true);
	});

	it('does not start when the signal is already aborted', async () => {
		const result = await run(
			flow([{ n: 1 }], { parameters: { authentication: 'none', url: `${baseUrl}/echo` } }),
			{},
			{
				signal: AbortSignal.abort(),
			},
		);
		expect(result.data.status).toBe('canceled');
		expect(result.error?.message).toBe('The execution was cancelled manually');
		expect(seen).toEqual([]);
	});
});

// ---------------------------------------------------------------------------------------------------------
// What n8n-core does; the README's findings, kept honest by these tests.

describe('n8n-core request behaviour the transport relies on', () => {
	/** Runs one request through the probe and hands back the error the helper threw into the node. */
	async function caught(
		probe: Partial<INode> & { parameters: INode['parameters'] },
	): Promise<unknown> {
		caughtErrors = [];
		const result = await run(flow([{ n: 1 }], probe), {
			'oauth-1': oauthCredential(),
			'header-1': { type: 'testHeaderAuthApi', data: { apiKey: 'wrong-key' } },
		});
		expect(result.nodeError('Probe')).toBeDefined();
		expect(caughtErrors).toHaveLength(1);
		return caughtErrors[0];
	}

	it('OAuth2 + ignoreHttpStatusErrors: true returns the 401 and does not refresh', async () => {
		const result = await run(
			flow(
				[{ n: 1 }],
				oauthProbe(`${baseUrl}/api/me`, { returnFullResponse: true, ignoreHttpStatusErrors: true }),
			),
			{ 'oauth-1': oauthCredential() },
		);
		expect(json(result.output('Probe'))[0]).toMatchObject({ response: { statusCode: 401 } });
		expect(seen.map((request) => request.path)).toEqual(['/api/me']);
		expect(result.credentialUpdates).toEqual([]);
	});

	it('OAuth2 + ignoreHttpStatusErrors { except: [401] } refreshes on 401 and returns other statuses', async () => {
		const options = {
			returnFullResponse: true,
			ignoreHttpStatusErrors: { ignore: true, except: [401] },
		};
		const result = await run(flow([{ n: 1 }], oauthProbe(`${baseUrl}/api/me?id=me`, options)), {
			'oauth-1': oauthCredential(),
		});
		expect(json(result.output('Probe'))[0]).toMatchObject({
			response: { statusCode: 200, body: { id: 'me' } },
		});
		expect(seen.map((request) => request.path.split('?')[0])).toEqual([
			'/api/me',
			'/oauth/token',
			'/api/me',
		]);

		seen = [];
		const throttled = await run(flow([{ n: 1 }], oauthProbe(`${baseUrl}/throttled`, options)), {
			'oauth-1': oauthCredential(),
		});
		expect(json(throttled.output('Probe'))[0]).toMatchObject({
			response: {
				statusCode: 429,
				headers: { 'retry-after': '7' },
				body: { error: { code: 'TooManyRequests' } },
			},
		});
		expect(seen.map((request) => request.path)).toEqual(['/throttled']);
	});

	it('helpers.httpRequest throws the raw AxiosError: status, headers and body on error.response', async () => {
		const error = await caught({
			parameters: { authentication: 'none', url: `${baseUrl}/throttled` },
		});
		expect(error).toMatchObject({
			isAxiosError: true,
			name: 'AxiosError',
			code: 'ERR_BAD_REQUEST',
			message: 'Request failed with status code 429',
			status: 429,
			response: {
				status: 429,
				headers: { 'retry-after': '7' },
				data: { error: { code: 'TooManyRequests' } },
			},
		});
	});

	it('helpers.httpRequest: reset, refused and timeout are AxiosErrors with a code and no response', async () => {
		const reset = await caught({ parameters: { authentication: 'none', url: `${baseUrl}/reset` } });
		expect(reset).toMatchObject({
			isAxiosError: true,
			name: 'Error',
			code: 'ECONNRESET',
			message: 'socket hang up',
		});
		expect(reset).not.toHaveProperty('response');

		const refused = await caught({
			parameters: { authentication: 'none', url: 'http://127.0.0.1:1/nothing-listens' },
		});
		expect(refused).toMatchObject({ isAxiosError: true, name: 'Error', code: 'ECONNREFUSED' });

		const timeout = await caught({
			parameters: {
				authentication: 'none',
				url: `${baseUrl}/hang`,
				requestOptions: JSON.stringify({ timeout: 200 }),
			},
		});
		expect(timeout).toMatchObject({
			isAxiosError: true,
			name: 'AxiosError',
			code: 'ECONNABORTED',
			message: 'timeout of 200ms exceeded',
		});
	});

	it('httpRequestWithAuthentication wraps every failure in NodeApiError; the AxiosError is its cause', async () => {
		const throttled = await caught(oauthProbe(`${baseUrl}/throttled`));
		expect(throttled).toBeInstanceOf(NodeApiError);
		expect(throttled).toMatchObject({
			httpCode: '429',
			message: 'The service is receiving too many requests from you',
			description: 'slow down',
			context: { data: { error: { code: 'TooManyRequests', message: 'slow down' } } },
		});
		expect((throttled as NodeApiError).cause).toMatchObject({
			status: 429,
			response: { headers: { 'retry-after': '7' } },
		});

		const reset = await caught(oauthProbe(`${baseUrl}/reset`));
		expect(reset).toMatchObject({ httpCode: 'ECONNRESET' });
		expect((reset as NodeApiError).cause).toMatchObject({ code: 'ECONNRESET' });
	});

	it("httpRequestWithAuthentication replaces the caller's abortSignal with the execution's cancel signal", async () => {
		const headerAuth = {
			parameters: { authentication: 'headerAuth', url: `${baseUrl}/echo`, abortedSignal: true },
			credentials: { testHeaderAuthApi: { id: 'header-1', name: 'Header account' } },
		};
		const credentials = {
			'header-1': { type: 'testHeaderAuthApi', data: { apiKey: HEADER_SECRET } },
		};
		const withAuth = await run(flow([{ n: 1 }], headerAuth), credentials);
		expect(json(withAuth.output('Probe'))).toEqual([{ response: { query: {} } }]);

		const plain = await caught({
			parameters: { authentication: 'none', url: `${baseUrl}/echo`, abortedSignal: true },
		});
		expect(plain).toMatchObject({
			name: 'CanceledError',
			code: 'ERR_CANCELED',
			message: 'canceled',
		});
	});

	it('a generic-auth 401 is sent a second time before n8n-core gives up', async () => {
		const error = await caught({
			parameters: { authentication: 'headerAuth', url: `${baseUrl}/header-protected` },
			credentials: { testHeaderAuthApi: { id: 'header-1', name: 'Header account' } },
		});
		expect(error).toMatchObject({ httpCode: '401' });
		expect(seen.map((request) => request.path)).toEqual(['/header-protected', '/header-protected']);
	});
});
