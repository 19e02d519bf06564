import {
	NodeApiError,
	NodeOperationError,
	sleep,
	type IDataObject,
	type IExecuteFunctions,
	type IHookFunctions,
	type IHttpRequestMethods,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type INode,
	type IPollFunctions,
	type ITriggerFunctions,
	type IWebhookFunctions,
	type JsonObject,
} from 'n8n-workflow';

import { chunk, MAX_IDS_PER_REQUEST } from '../presence/batching';
import { isGuid } from '../users/ids';
import {
	isPresence,
	isPresenceList,
	isRecord,
	readGraphError,
	type GraphError,
	type Presence,
} from '../presence/presence';
import { RateLimiter, sharedLimiter } from '../throttle/rateLimiter';
import { Semaphore } from '../throttle/semaphore';
import { decideRetry, type AttemptOutcome, type RetryPolicyOptions } from '../throttle/retryPolicy';
import { parseRetryAfter } from '../throttle/retryAfter';
import {
	acquireAppToken,
	AppTokenError,
	checkAppCredential,
	readAppCredential,
	type AppCredential,
} from './appTokens';
import { resolveCloud, type CloudEndpoints } from './clouds';

/**
 * The one door to Graph for the node and the triggers: base URL per cloud, tokens, the shared throttle,
 * concurrency, retries, timeouts, cancellation and error mapping. Operations hand it paths and ids; they never
 * build URLs or read error bodies themselves.
 */

export type Authentication = 'oAuth2' | 'application';
export const DELEGATED_CREDENTIAL_TYPE = 'microsoftGraphPresenceOAuth2Api';
export const APP_CREDENTIAL_TYPE = 'microsoftGraphPresenceAppApi';

export type GraphContext =
	| IExecuteFunctions
	| IPollFunctions
	| IHookFunctions
	| IWebhookFunctions
	| ILoadOptionsFunctions
	| ITriggerFunctions;

export interface GraphClientOptions {
	apiVersion: 'v1.0' | 'beta';
	/** Requests this process may start per 30 s for this app and tenant (Graph allows 1,500). */
	maxRequestsPer30Seconds: number;
	/** Requests in flight at once. */
	concurrency: number;
	maxRetries: number;
	maxRetryWaitSeconds: number;
	timeoutSeconds: number;
}

export const GRAPH_THROTTLE_LIMIT = 1500;
const GRAPH_THROTTLE_WINDOW_MS = 30_000;
// Our clock starts a request a little before Graph counts it, and latencies vary: keeping a 2 % wider window
// than Graph's keeps this process from ever tipping Graph's own window.
const LIMITER_WINDOW_MS = Math.round(GRAPH_THROTTLE_WINDOW_MS * 1.02);

export const DEFAULT_CLIENT_OPTIONS: GraphClientOptions = {
	apiVersion: 'v1.0',
	maxRequestsPer30Seconds: GRAPH_THROTTLE_LIMIT,
	concurrency: 8,
	maxRetries: 5,
	maxRetryWaitSeconds: 180,
	timeoutSeconds: 30,
};

interface GraphRequest {
	method: IHttpRequestMethods;
	/** Path below the version, e.g. `/me/presence`, or a full `@odata.nextLink` on the same Graph host. */
	path: string;
	headers?: Record<string, string>;
	body?: IDataObject;
	/** Shown in errors: what the request was for. */
	hint?: (status: number, error: GraphError | undefined) => string | undefined;
}

interface RawResponse {
	statusCode: number;
	headers: Record<string, unknown>;
	body: unknown;
}

/** A Graph answer that is not a success, after retries: what Graph said, as n8n shows API errors. */
export class GraphRequestError extends Error {
	constructor(
		readonly status: number,
		readonly graphError: GraphError | undefined,
		readonly hint: string | undefined,
	) {
		super(`${graphError?.code ?? `HTTP ${status}`}: ${graphError?.message ?? 'no error details'}`);
	}
}

/** One getPresencesByUserId request of getManyPresences: its ids, and Graph's answer or why there is none. */
export interface PresenceBatch {
	ids: string[];
	result: Presence[] | Error;
}

/** A user as the presence endpoints know it, or why not. */
export type ResolvedUser = { id: string } | { notFound: true } | { error: NodeApiError };

export class GraphClient {
	readonly endpoints: CloudEndpoints;
	private readonly limiter: RateLimiter;
	private readonly semaphore: Semaphore;
	private readonly retry: RetryPolicyOptions;
	private readonly signal: AbortSignal | undefined;
	private appToken: Promise<string> | undefined;
	/** The token `appToken` resolved to, to tell a stale 401 from a fresh one. */
	private currentToken: string | undefined;
	private refreshNext = false;
	/** Retries by reason, for reports and tests. */
	readonly stats = { requests: 0, retries: 0, throttled: 0, tokenRefreshes: 0 };

	private constructor(
		private readonly ctx: GraphContext,
		readonly authentication: Authentication,
		private readonly cloud: string,
		endpoints: CloudEndpoints,
		private readonly appCredential: AppCredential | undefined,
		/** The app's client id: the default presence session id for Set / Clear Presence. */
		readonly clientId: string,
		budgetKey: string,
		private readonly options: GraphClientOptions,
	) {
		this.endpoints = endpoints;
		this.limiter = sharedLimiter(budgetKey, LIMITER_WINDOW_MS);
		this.semaphore = new Semaphore(options.concurrency);
		this.retry = {
			maxRetries: options.maxRetries,
			baseDelayMs: 1000,
			maxDelayMs: options.maxRetryWaitSeconds * 1000,
			jitterMs: 1000,
		};
		this.signal = 'getExecutionCancelSignal' in ctx ? ctx.getExecutionCancelSignal() : undefined;
	}

	static async create(
		ctx: GraphContext,
		authentication: Authentication,
		options: Partial<GraphClientOptions> = {},
	): Promise<GraphClient> {
		const merged = checkOptions(ctx.getNode(), { ...DEFAULT_CLIENT_OPTIONS, ...options });
		const credentialName =
			authentication === 'application' ? APP_CREDENTIAL_TYPE : DELEGATED_CREDENTIAL_TYPE;
		const data = await ctx.getCredentials(credentialName);
		const cloud = typeof data.cloud === 'string' && data.cloud ? data.cloud : 'global';
		const resolved = resolveCloud(cloud, data.graphBaseUrl, data.loginBaseUrl);
		if (!resolved.ok)
			throw new NodeOperationError(ctx.getNode(), `Credential: ${resolved.message}`);

		let appCredential: AppCredential | undefined;
		let tenant: string;
		let clientId: string;
		if (authentication === 'application') {
			appCredential = readAppCredential(data);
			const problem = checkAppCredential(appCredential);
			if (problem) throw new NodeOperationError(ctx.getNode(), `Credential: ${problem}`);
			tenant = appCredential.tenantId;
			clientId = appCredential.clientId;
		} else {
			tenant = String(data.tenant ?? 'organizations');
			clientId = String(data.clientId ?? '');
		}
		// Graph's budget belongs to the app in a tenant of a cloud: every execution with that app shares it.
		const budgetKey = [
			resolved.endpoints.graphBaseUrl,
			tenant.toLowerCase(),
			clientId.toLowerCase(),
		].join('|');
		return new GraphClient(
			ctx,
			authentication,
			cloud,
			resolved.endpoints,
			appCredential,
			clientId,
			budgetKey,
			merged,
		);
	}

	/** `GET /me/presence`: delegated only, refused before any request with the application credential. */
	async getMyPresence(): Promise<Presence> {
		if (this.authentication === 'application') {
			throw new NodeOperationError(
				this.ctx.getNode(),
				'Get Me needs the delegated (OAuth2) credential',
				{
					description:
						'An application signs in as itself, not as a user, so Graph has no "me" for it. Use Get User or Get Many with the application credential, or switch Authentication to OAuth2.',
				},
			);
		}
		return await this.request(
			{ method: 'GET', path: '/me/presence', hint: presenceHint },
			isPresence,
		);
	}

	/** `GET /users/{id}/presence` for one object id. */
	async getPresence(id: string): Promise<Presence> {
		return await this.request(
			{ method: 'GET', path: `/users/${encodeURIComponent(id)}/presence`, hint: presenceHint },
			isPresence,
		);
	}

	/** One `getPresencesByUserId` call: at most 650 GUIDs. */
	async getPresencesByUserId(ids: readonly string[]): Promise<Presence[]> {
		if (ids.length > MAX_IDS_PER_REQUEST) {
			throw new RangeError(
				`getPresencesByUserId takes at most ${MAX_IDS_PER_REQUEST} ids, got ${ids.length}`,
			);
		}
		const answer = await this.request(
			{
				method: 'POST',
				path: '/communications/getPresencesByUserId',
				body: { ids: [...ids] },
				hint: presenceHint,
			},
			isPresenceList,
		);
		return answer.value;
	}

	/**
	 * Presence of any number of GUIDs: 650 a request, all requests under the shared throttle at once. Each batch
	 * settles on its own, so one failed batch does not lose the others. The answer lists the batches in order,
	 * consecutive slices of `ids`; `onBatch` sees each one as it settles (`index` is its place in the answer), so
	 * that a caller can work on answers while later ones are still on the way.
	 */
	async getManyPresences(
		ids: readonly string[],
		onBatch?: (batch: PresenceBatch, index: number) => void,
	): Promise<PresenceBatch[]> {
		const batches = chunk(ids, MAX_IDS_PER_REQUEST);
		return await Promise.all(
			batches.map(async (batch, index): Promise<PresenceBatch> => {
				let settled: PresenceBatch;
				try {
					settled = { ids: batch, result: await this.getPresencesByUserId(batch) };
				} catch (error) {
					this.throwIfCancelled();
					settled = {
						ids: batch,
						result: error instanceof Error ? error : new Error(String(error)),
					};
				}
				onBatch?.(settled, index);
				return settled;
			}),
		);
	}

	/**
	 * Resolves user principal names or e-mail addresses to object ids, 20 at a time through JSON batching.
	 * Sub-requests that Graph throttles are sent again in a later batch after the wait it asks for.
	 */
	async resolveUserIds(upns: readonly string[]): Promise<Map<string, ResolvedUser>> {
		const resolved = new Map<string, ResolvedUser>();
		const original = new Map(upns.map((upn) => [upn.toLowerCase(), upn]));
		let pending = [...original.keys()];
		for (let round = 0; pending.length > 0; round++) {
			const again = new Set<string>();
			let waitMs = 0;
			const giveUp = round >= this.retry.maxRetries;
			await Promise.all(
				chunk(pending, 20).map(async (group) => {
					const requests = group.map((key, index) => ({
						id: String(index),
						method: 'GET',
						url: `/users/${encodeURIComponent(original.get(key) ?? key)}?$select=id`,
					}));
					let answer: BatchAnswer;
					try {
						answer = await this.request(
							{ method: 'POST', path: '/$batch', body: { requests } },
							isBatchAnswer,
						);
					} catch (error) {
						this.throwIfCancelled();
						if (!(error instanceof NodeApiError)) throw asNodeError(this.ctx.getNode(), error);
						for (const key of group) resolved.set(key, { error });
						return;
					}
					for (const response of answer.responses) {
						const key = group[Number(response.id)];
						if (key === undefined) continue;
						const { status, body } = response;
						if (
							status >= 200 &&
							status < 300 &&
							isRecord(body) &&
							typeof body.id === 'string' &&
							isGuid(body.id)
						) {
							resolved.set(key, { id: body.id.toLowerCase() });
						} else if (status === 404) {
							resolved.set(key, { notFound: true });
						} else if ([429, 503, 504].includes(status) && !giveUp) {
							again.add(key);
							const told = parseRetryAfter(
								headerValue(response.headers, 'retry-after'),
								Date.now(),
							);
							waitMs = Math.max(waitMs, told ?? this.retry.baseDelayMs * 2 ** round);
						} else {
							const graphError = readGraphError(body);
							resolved.set(key, {
								error: this.apiError(
									new GraphRequestError(status, graphError, userLookupHint(status)),
								),
							});
						}
					}
					// A sub-request the answer left out is asked again, like a throttled one.
					for (const key of group) {
						if (resolved.has(key) || again.has(key)) continue;
						if (giveUp)
							resolved.set(key, {
								error: this.apiError(
									new GraphRequestError(500, undefined, "Graph's batch answer left this user out"),
								),
							});
						else again.add(key);
					}
				}),
			);
			pending = [...again];
			if (pending.length > 0)
				await this.wait(Math.min(waitMs || this.retry.baseDelayMs, this.retry.maxDelayMs));
		}
		return resolved;
	}

	/** A presence write: any 2xx with an empty body (Graph's 200 or 204) or a JSON object counts as done. */
	async write(
		path: string,
		body: IDataObject | undefined,
		hint?: GraphRequest['hint'],
	): Promise<void> {
		await this.request({ method: 'POST', path, body, hint: hint ?? presenceHint }, isEmptyOrObject);
	}

	/** Follows `@odata.nextLink` through every page of a collection. */
	async *pages(path: string, headers?: Record<string, string>): AsyncGenerator<unknown[]> {
		for (let next: string | undefined = path; next; ) {
			const page: { value: unknown[]; '@odata.nextLink'?: string } = await this.request(
				{ method: 'GET', path: next, headers, hint: directoryHint },
				isCollection,
			);
			yield page.value;
			next = page['@odata.nextLink'];
		}
	}

	/** One page of a collection, with its next link (for n8n's list search). */
	async page(
		path: string,
		headers?: Record<string, string>,
	): Promise<{ value: unknown[]; next?: string }> {
		const page = await this.request(
			{ method: 'GET', path, headers, hint: directoryHint },
			isCollection,
		);
		return { value: page.value, next: page['@odata.nextLink'] };
	}

	/** Object ids of a group's members, nested groups included, users only. `group` is an object id or a display name. */
	async groupMemberIds(group: string): Promise<string[]> {
		let groupId = group.trim();
		if (!isGuid(groupId)) {
			const filter = encodeURIComponent(`displayName eq '${groupId.replace(/'/g, "''")}'`);
			const found = await this.page(`/groups?$filter=${filter}&$select=id,displayName`);
			const ids = found.value
				.filter(isRecord)
				.map((entry) => entry.id)
				.filter((id): id is string => typeof id === 'string');
			if (ids.length !== 1) {
				throw new NodeOperationError(
					this.ctx.getNode(),
					ids.length === 0
						? `No group named "${groupId}"`
						: `${ids.length} groups are named "${groupId}"`,
					{
						description: "Give the group's object ID to be unambiguous.",
					},
				);
			}
			groupId = ids[0];
		}
		const members = new Set<string>();
		for await (const page of this.pages(
			`/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=id&$top=999`,
		)) {
			for (const member of page)
				if (isRecord(member) && typeof member.id === 'string') members.add(member.id.toLowerCase());
		}
		return [...members];
	}

	get node(): INode {
		return this.ctx.getNode();
	}

	/** Turns what Graph said into the error n8n shows: code, message, request-id, HTTP status and a hint. */
	apiError(error: GraphRequestError): NodeApiError {
		const { status, graphError, hint } = error;
		const code = graphError?.code ?? `HTTP ${status}`;
		const description = [
			hint,
			graphError?.requestId ? `Graph request-id: ${graphError.requestId}` : undefined,
			graphError?.date ? `date: ${graphError.date}` : undefined,
		]
			.filter((part) => part)
			.join(' — ');
		const response: JsonObject = {
			code,
			message: graphError?.message ?? '',
			requestId: graphError?.requestId ?? null,
			httpCode: String(status),
		};
		return graphApiError(this.ctx.getNode(), response, {
			message: `Microsoft Graph answered ${status} ${code}${graphError?.message ? `: ${graphError.message}` : ''}`,
			description,
			httpCode: String(status),
		});
	}

	/**
	 * Sends one request: waits for the shared budget and a free slot, retries what Graph asks to retry, refreshes
	 * an app token once on 401, and checks the answer's shape with `guard`.
	 */
	async request<T>(request: GraphRequest, guard: (body: unknown) => body is T): Promise<T> {
		let refreshedToken = false;
		for (let retries = 0; ; ) {
			this.throwIfCancelled();
			let startedAt = 0;
			const outcome = await this.semaphore.run(async () => {
				startedAt = await this.startSlot();
				return await this.sendOnce(request);
			});
			// The limiter paces by answer latency and widens probes that Graph admitted (429s: throttledAt below).
			if (!('transportError' in outcome) && outcome.statusCode !== 429)
				this.limiter.answeredAt(startedAt, Date.now());

			let attempt: AttemptOutcome;
			if ('transportError' in outcome) {
				attempt = { kind: 'transport' };
			} else if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
				if (guard(outcome.body)) return outcome.body;
				// A 2xx whose body is cut short or not what Graph sends: treat like a dropped connection.
				attempt = { kind: 'transport' };
			} else {
				if (
					outcome.statusCode === 401 &&
					this.authentication === 'application' &&
					!refreshedToken
				) {
					refreshedToken = true;
					this.tokenRejected(outcome.token);
					continue;
				}
				attempt = {
					kind: 'status',
					status: outcome.statusCode,
					retryAfter: headerValue(outcome.headers, 'retry-after'),
				};
			}

			const decision = decideRetry(attempt, retries, this.retry, Date.now(), Math.random());
			if (!decision.retry) {
				if ('transportError' in outcome) {
					throw graphApiError(
						this.ctx.getNode(),
						{ message: outcome.transportError },
						{
							message: `Microsoft Graph could not be reached after ${retries + 1} attempts: ${outcome.transportError}`,
							description: `${request.method} ${request.path}`,
						},
					);
				}
				if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
					throw graphApiError(
						this.ctx.getNode(),
						{ message: 'unexpected response' },
						{
							message: `Microsoft Graph sent an unreadable answer ${retries + 1} times to ${request.method} ${request.path}`,
							httpCode: String(outcome.statusCode),
						},
					);
				}
				const graphError = readGraphError(outcome.body);
				throw this.apiError(
					new GraphRequestError(
						outcome.statusCode,
						graphError,
						request.hint?.(outcome.statusCode, graphError) ??
							genericHint(outcome.statusCode, retries),
					),
				);
			}
			retries++;
			this.stats.retries++;
			if (attempt.kind === 'status' && attempt.status === 429) {
				this.stats.throttled++;
				// Graph throttles the app, not this request: everyone sharing the budget holds back, and this
				// process takes a smaller share of it (other workers or tools spend the rest).
				this.limiter.throttledAt(
					startedAt,
					Date.now(),
					decision.fromRetryAfter ? decision.delayMs : undefined,
				);
			}
			await this.wait(decision.delayMs);
		}
	}

	private async sendOnce(
		request: GraphRequest,
	): Promise<(RawResponse & { token?: string }) | { transportError: string }> {
		const options: IHttpRequestOptions = {
			method: request.method,
			url: this.url(request.path),
			body: request.body,
			json: true,
			returnFullResponse: true,
			// n8n refreshes an OAuth2 token only when the request throws a 401, so for OAuth2 HTTP errors are
			// thrown (and read back below); the application credential refreshes its token itself.
			ignoreHttpStatusErrors: this.authentication === 'application',
			timeout: this.options.timeoutSeconds * 1000,
			abortSignal: this.signal,
			headers: { Accept: 'application/json', ...request.headers },
		};
		this.stats.requests++;
		try {
			if (this.authentication === 'application') {
				const token = await this.token();
				options.headers = { ...options.headers, Authorization: `Bearer ${token}` };
				const answer = readResponse(await this.ctx.helpers.httpRequest(options));
				return 'transportError' in answer ? answer : { ...answer, token };
			}
			return readResponse(
				await this.ctx.helpers.httpRequestWithAuthentication.call(
					this.ctx,
					DELEGATED_CREDENTIAL_TYPE,
					options,
				),
			);
		} catch (error) {
			this.throwIfCancelled();
			if (error instanceof AppTokenError) {
				throw new NodeOperationError(this.ctx.getNode(), error.message, {
					description:
						'Check Tenant ID, Client ID and the secret or certificate of the application credential (secrets expire; the certificate must be uploaded to the app registration).',
				});
			}
			const failure = readFailure(error);
			if (failure) return failure;
			throw asNodeError(this.ctx.getNode(), error);
		}
	}

	/** Graph paths below the version; next links are followed only on this credential's own Graph host. */
	private url(path: string): string {
		if (!/^https?:\/\//i.test(path))
			return `${this.endpoints.graphBaseUrl}/${this.options.apiVersion}${path}`;
		if (!path.startsWith(`${this.endpoints.graphBaseUrl}/`)) {
			throw new NodeOperationError(
				this.ctx.getNode(),
				'Graph sent a next link to another host; not followed',
			);
		}
		return path;
	}

	/** The app token, from MSAL's cache unless Graph rejected the cached one. */
	private async token(): Promise<string> {
		if (!this.appCredential) throw new Error('No application credential');
		if (!this.appToken) {
			const pending = acquireAppToken(
				this.cloud,
				this.endpoints,
				this.appCredential,
				this.refreshNext,
			).then((token) => {
				this.currentToken = token;
				return token;
			});
			this.refreshNext = false;
			this.appToken = pending;
			pending.catch(() => {
				if (this.appToken === pending) this.appToken = undefined;
			});
		}
		return await this.appToken;
	}

	/**
	 * Graph answered 401 to `token`. Requests in flight with the same token all land here: only the first starts a
	 * new sign-in (skipping MSAL's cache), the others then use the token it brings.
	 */
	private tokenRejected(token: string | undefined): void {
		if (token === undefined || token !== this.currentToken) return;
		this.currentToken = undefined;
		this.appToken = undefined;
		this.refreshNext = true;
		this.stats.tokenRefreshes++;
	}

	private throwIfCancelled(): void {
		if (this.signal?.aborted) {
			throw new NodeOperationError(this.ctx.getNode(), 'The execution was canceled');
		}
	}

	/**
	 * Waits for this request's turn in the shared budget and returns its start time. A 429 seen by another
	 * request while this one waited may have paused everyone: then the turn is given back and taken anew.
	 */
	private async startSlot(): Promise<number> {
		for (;;) {
			const reservedAt = Date.now();
			const at =
				reservedAt + this.limiter.reserve(reservedAt, this.options.maxRequestsPer30Seconds);
			let started = false;
			try {
				await this.wait(at - reservedAt);
				started = this.limiter.holdAt(Date.now()) === 0;
			} finally {
				// Cancelled while waiting, or paused meanwhile: the turn was not used.
				if (!started) this.limiter.release(at);
			}
			if (started) return at;
		}
	}

	/** Sleeps in short steps so that a cancelled execution stops waiting within a quarter second. */
	private async wait(ms: number): Promise<void> {
		const until = Date.now() + ms;
		for (let left = ms; left > 0; left = until - Date.now()) {
			this.throwIfCancelled();
			await sleep(Math.min(left, 250));
		}
		this.throwIfCancelled();
	}
}

/**
 * NodeApiError swaps a message for a stock text when it contains a Node.js error code anywhere, and Graph's
 * "ResourceNotFound" contains "ENOTFOUND": the message is set again afterwards so that what Graph said stays.
 */
function graphApiError(
	node: INode,
	response: JsonObject,
	options: { message: string; description?: string; httpCode?: string },
): NodeApiError {
	const error = new NodeApiError(node, response, options);
	error.message = options.message;
	return error;
}

/** n8n shows its own error classes best; anything else is wrapped without its (possibly secret-laden) details. */
export function asNodeError(node: INode, error: unknown): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(node, error instanceof Error ? error.message : String(error));
}

function readResponse(response: unknown): RawResponse | { transportError: string } {
	if (!isRecord(response) || typeof response.statusCode !== 'number') {
		return { transportError: 'the answer had no HTTP status' };
	}
	return {
		statusCode: response.statusCode,
		headers: isRecord(response.headers) ? response.headers : {},
		body: response.body,
	};
}

function headerValue(headers: unknown, name: string): string | undefined {
	if (!isRecord(headers)) return undefined;
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() === name)
			return Array.isArray(value)
				? String(value[0])
				: value === undefined
					? undefined
					: String(value);
	}
	return undefined;
}

/**
 * What a thrown request error says: an HTTP answer (n8n's OAuth2 path throws those, wrapped in NodeApiError), a
 * network failure (worth a retry), or undefined for anything else (a refresh that failed, a bug: not retried).
 * Only status, headers and body are kept; the request, whose headers hold the token, is dropped.
 */
function readFailure(error: unknown): RawResponse | { transportError: string } | undefined {
	for (
		let current: unknown = error, depth = 0;
		isRecord(current) && depth < 5;
		current = current.cause, depth++
	) {
		const response = current.response;
		if (isRecord(response) && typeof response.status === 'number') {
			return {
				statusCode: response.status,
				headers: isRecord(response.headers) ? { ...response.headers } : {},
				body: parseBody(response.data ?? response.body),
			};
		}
		const code = typeof current.code === 'string' ? current.code : undefined;
		if (
			current.isAxiosError === true ||
			current.name === 'AxiosError' ||
			(code && NETWORK_ERROR_CODES.has(code))
		) {
			const message = typeof current.message === 'string' ? current.message.split('\n')[0] : '';
			return {
				transportError: [code, message].filter((part) => part).join(' ') || 'network error',
			};
		}
	}
	return undefined;
}

const NETWORK_ERROR_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ERR_BAD_RESPONSE',
	'ERR_STREAM_PREMATURE_CLOSE',
	'UND_ERR_SOCKET',
]);

function parseBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	try {
		return JSON.parse(body);
	} catch {
		return body;
	}
}

/** A cut or garbled answer to a write is not a success: it is retried like a dropped connection. */
function isEmptyOrObject(body: unknown): body is unknown {
	return body === undefined || body === null || body === '' || isRecord(body);
}

function isCollection(value: unknown): value is { value: unknown[]; '@odata.nextLink'?: string } {
	return (
		isRecord(value) &&
		Array.isArray(value.value) &&
		(value['@odata.nextLink'] === undefined || typeof value['@odata.nextLink'] === 'string')
	);
}

function directoryHint(status: number): string | undefined {
	if (status === 403)
		return 'Reading users and groups needs User.ReadBasic.All and GroupMember.Read.All (delegated) or User.Read.All and GroupMember.Read.All (application), with admin consent.';
	if (status === 404) return 'No such group or user in this tenant.';
	return presenceHint(status);
}

interface BatchAnswer {
	responses: Array<{ id: string; status: number; headers?: unknown; body?: unknown }>;
}

function isBatchAnswer(value: unknown): value is BatchAnswer {
	return (
		isRecord(value) &&
		Array.isArray(value.responses) &&
		value.responses.every(
			(entry) =>
				isRecord(entry) && typeof entry.id === 'string' && typeof entry.status === 'number',
		)
	);
}

function checkOptions(node: INode, options: GraphClientOptions): GraphClientOptions {
	const problems: string[] = [];
	if (!['v1.0', 'beta'].includes(options.apiVersion))
		problems.push(`API Version must be v1.0 or beta, got "${options.apiVersion}"`);
	if (
		!(
			options.maxRequestsPer30Seconds >= 1 &&
			options.maxRequestsPer30Seconds <= GRAPH_THROTTLE_LIMIT
		)
	) {
		problems.push(
			`Max Requests per 30 Seconds must be between 1 and ${GRAPH_THROTTLE_LIMIT}, got ${options.maxRequestsPer30Seconds}`,
		);
	}
	if (
		!(
			Number.isInteger(options.concurrency) &&
			options.concurrency >= 1 &&
			options.concurrency <= 64
		)
	) {
		problems.push(`Concurrency must be a whole number from 1 to 64, got ${options.concurrency}`);
	}
	if (
		!(Number.isInteger(options.maxRetries) && options.maxRetries >= 0 && options.maxRetries <= 10)
	) {
		problems.push(`Max Retries must be a whole number from 0 to 10, got ${options.maxRetries}`);
	}
	if (!(options.maxRetryWaitSeconds >= 0 && options.maxRetryWaitSeconds <= 180)) {
		problems.push(
			`Max Retry Wait must be between 0 and 180 seconds, got ${options.maxRetryWaitSeconds}`,
		);
	}
	if (!(options.timeoutSeconds > 0 && options.timeoutSeconds <= 300)) {
		problems.push(`Timeout must be between 1 and 300 seconds, got ${options.timeoutSeconds}`);
	}
	if (problems.length > 0) throw new NodeOperationError(node, problems.join('; '));
	return options;
}

function presenceHint(status: number): string | undefined {
	if (status === 403) {
		return 'Permission missing: reading presence needs Presence.Read (Get Me) or Presence.Read.All (other users), delegated or application. Application permissions need an administrator to grant admin consent in Entra ID (App registrations → API permissions → Grant admin consent).';
	}
	if (status === 404)
		return "Graph knows no presence for this user: check that the id is the user's Entra object id and that the user has a Teams license.";
	if (status === 401)
		return 'Graph rejected the token: check the credential (tenant, client id, secret or certificate, and that the account is still allowed to sign in).';
	return undefined;
}

function userLookupHint(status: number): string | undefined {
	if (status === 403)
		return 'Resolving user principal names needs User.ReadBasic.All (delegated) or User.Read.All (application), with admin consent.';
	return presenceHint(status);
}

function genericHint(status: number, retries: number): string | undefined {
	if (status === 429) {
		return `Graph kept throttling after ${retries} retries. If other tools share this app registration, lower "Max Requests per 30 Seconds".`;
	}
	if (status === 503 || status === 504)
		return `Graph was unavailable after ${retries} retries; try again later.`;
	return presenceHint(status);
}
