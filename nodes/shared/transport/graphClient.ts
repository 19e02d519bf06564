import {
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
} from 'n8n-workflow';

import { RateLimiter, sharedLimiter } from '../throttle/rateLimiter';
import {
	decideRetry,
	retryPolicy,
	type AttemptOutcome,
	type RetryPolicyOptions,
} from '../throttle/retryPolicy';
import { Semaphore } from '../throttle/semaphore';
import {
	acquireAppToken,
	AppTokenError,
	checkAppCredential,
	readAppCredential,
	type AppCredential,
} from './appTokens';
import { resolveCloud, type CloudEndpoints } from './clouds';
import {
	asNodeError,
	graphApiError,
	GraphRequestError,
	readGraphError,
	retriesHint,
	toNodeApiError,
	type Hint,
} from './errors';
import { readClientOptions, type GraphClientOptions } from './options';
import {
	headerValue,
	readFailure,
	readResponse,
	type RawResponse,
	type TransportFailure,
} from './response';

/**
 * The one door to Graph for the node and the triggers: base URL per cloud, tokens, the shared
 * throttle, concurrency, retries, timeouts, cancellation and error mapping. The endpoint modules
 * (../graph) hand it paths and bodies; operations and triggers call those modules and never build
 * paths themselves.
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

const GRAPH_THROTTLE_WINDOW_MS = 30_000;
// Our clock starts a request a little before Graph counts it, and latencies vary: keeping a 2 %
// wider window than Graph's keeps this process from ever tipping Graph's own window.
const LIMITER_WINDOW_MS = Math.round(GRAPH_THROTTLE_WINDOW_MS * 1.02);

export interface GraphRequest {
	method: IHttpRequestMethods;
	/**
	 * Path below the version, e.g. `/me/presence`, or a full `@odata.nextLink` on the same Graph host.
	 */
	path: string;
	headers?: Record<string, string>;
	body?: IDataObject;
	/** What the request was for, in the words of its error. */
	hint?: Hint;
	/**
	 * Turns it takes in the shared budget: a `$batch` takes one per sub-request, since Graph counts each
	 * sub-request against its limits (concepts/throttling.md, "Throttling and batching"). Default 1.
	 */
	turns?: number;
}

type Outcome = (RawResponse & { token?: string }) | TransportFailure;

export class GraphClient {
	private readonly limiter: RateLimiter;
	private readonly semaphore: Semaphore;
	/**
	 * When and how often to try again: the policy the endpoint modules follow for their own
	 * sub-requests too.
	 */
	readonly retry: RetryPolicyOptions;
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
		readonly endpoints: CloudEndpoints,
		private readonly appCredential: AppCredential | undefined,
		/** The app's client id: the default presence session id for Set / Clear Presence. */
		readonly clientId: string,
		budgetKey: string,
		private readonly options: GraphClientOptions,
		/**
		 * Whose directory data this client may read: the budget key plus the n8n credential, so that names one
		 * credential looked up are never served to another (another tenant, or fewer permissions).
		 */
		readonly cacheScope: string,
	) {
		this.limiter = sharedLimiter(budgetKey, LIMITER_WINDOW_MS);
		this.semaphore = new Semaphore(options.concurrency);
		this.retry = retryPolicy(options.maxRetries, options.maxRetryWaitSeconds);
		this.signal = 'getExecutionCancelSignal' in ctx ? ctx.getExecutionCancelSignal() : undefined;
	}

	/**
	 * A client for the node's credential; `options` is the node's Options collection (other fields
	 * ignored).
	 */
	static async create(
		ctx: GraphContext,
		authentication: Authentication,
		options: Record<string, unknown> = {},
	): Promise<GraphClient> {
		const checked = readClientOptions(ctx.getNode(), options);
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
		// Graph's budget belongs to the app in a tenant of a cloud: every execution with that app shares
		// it.
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
			checked,
			`${budgetKey}|${ctx.getNode().credentials?.[credentialName]?.id ?? ''}`,
		);
	}

	get node(): INode {
		return this.ctx.getNode();
	}

	/**
	 * Sends one request: waits for the shared budget and a free slot, retries what Graph asks to
	 * retry, refreshes an app token once on 401, and checks the answer's shape with `guard`.
	 */
	async request<T>(request: GraphRequest, guard: (body: unknown) => body is T): Promise<T> {
		return (await this.requestTimed(request, guard)).body;
	}

	/**
	 * As `request`, and says when the answered attempt started: a `$batch` answer whose sub-requests Graph
	 * throttled reports them with `subRequestsThrottled(startedAt, …)`.
	 */
	async requestTimed<T>(
		request: GraphRequest,
		guard: (body: unknown) => body is T,
	): Promise<{ body: T; startedAt: number }> {
		let refreshedToken = false;
		for (let retries = 0; ; ) {
			this.throwIfCancelled();
			let startedAt = 0;
			const outcome = await this.semaphore.run(async () => {
				// One turn after another: the request starts with its last one.
				for (let turn = 0; turn < Math.max(1, request.turns ?? 1); turn++)
					startedAt = await this.startSlot();
				return await this.sendOnce(request);
			});

			let attempt: AttemptOutcome;
			if ('transportError' in outcome) {
				attempt = { kind: 'transport' };
			} else if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
				if (guard(outcome.body)) return { body: outcome.body, startedAt };
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
			if (!decision.retry) throw this.finalError(request, outcome, retries);
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

	/**
	 * Graph answered `count` sub-requests of a `$batch` started at `startedAt` with 429 (the longest
	 * Retry-After among them, if any): the budget holds back and adapts as for a throttled request.
	 */
	subRequestsThrottled(startedAt: number, count: number, retryAfterMs: number | undefined): void {
		if (count <= 0) return;
		this.stats.throttled += count;
		this.limiter.throttledAt(startedAt, Date.now(), retryAfterMs);
	}

	/** The error for a request that will not be tried again. */
	private finalError(request: GraphRequest, outcome: Outcome, retries: number): Error {
		const node = this.ctx.getNode();
		if ('transportError' in outcome) {
			return graphApiError(
				node,
				{ message: outcome.transportError },
				{
					message: `Microsoft Graph could not be reached after ${retries + 1} attempts: ${outcome.transportError}`,
					description: `${request.method} ${request.path}`,
				},
			);
		}
		if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
			return graphApiError(
				node,
				{ message: 'unexpected response' },
				{
					message: `Microsoft Graph sent an unreadable answer ${retries + 1} times to ${request.method} ${request.path}`,
					httpCode: String(outcome.statusCode),
				},
			);
		}
		const graphError = readGraphError(outcome.body);
		const hint =
			request.hint?.(outcome.statusCode, graphError) ?? retriesHint(outcome.statusCode, retries);
		return toNodeApiError(node, new GraphRequestError(outcome.statusCode, graphError, hint));
	}

	private async sendOnce(request: GraphRequest): Promise<Outcome> {
		const options: IHttpRequestOptions = {
			method: request.method,
			url: this.url(request.path),
			body: request.body,
			json: true,
			returnFullResponse: true,
			// n8n refreshes an OAuth2 token only when the request throws a 401, so for OAuth2 HTTP errors
			// are thrown (and read back by readFailure); the application credential refreshes its token
			// itself.
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

	/**
	 * Graph paths below the version; next links are followed only on this credential's own Graph host.
	 */
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
	 * Graph answered 401 to `token`. Requests in flight with the same token all land here: only the
	 * first starts a new sign-in (skipping MSAL's cache), the others then use the token it brings.
	 */
	private tokenRejected(token: string | undefined): void {
		if (token === undefined || token !== this.currentToken) return;
		this.currentToken = undefined;
		this.appToken = undefined;
		this.refreshNext = true;
		this.stats.tokenRefreshes++;
	}

	throwIfCancelled(): void {
		if (this.signal?.aborted) {
			throw new NodeOperationError(this.ctx.getNode(), 'The execution was canceled');
		}
	}

	/**
	 * Waits for this request's turn in the shared budget and returns its start time. A 429 seen by
	 * another request while this one waited may have paused everyone: then the turn is given back and
	 * taken anew.
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
	async wait(ms: number): Promise<void> {
		const until = Date.now() + ms;
		for (let left = ms; left > 0; left = until - Date.now()) {
			this.throwIfCancelled();
			await sleep(Math.min(left, 250));
		}
		this.throwIfCancelled();
	}
}
