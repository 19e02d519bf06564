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
	ThrottleClock,
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
	throttleBudgetError,
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

/** Bounds on one client's life beyond the node's options (set by the code that makes it). */
export interface ClientLimits {
	/**
	 * A request that cannot start by this time (ms since epoch), because the app's budget has no room
	 * or Graph asked to wait longer, fails with StartDeadlineError instead of waiting: a poll that
	 * cannot start before the next one is due is skipped rather than queued behind it.
	 */
	startBy?: number;
}

/**
 * A request gave up waiting for its turn in the app's budget (ClientLimits.startBy): nothing was
 * sent for it, and nothing is wrong with it.
 */
export class StartDeadlineError extends NodeOperationError {}

export class GraphClient {
	private readonly semaphore: Semaphore;
	/**
	 * When and how often to try again: the policy the endpoint modules follow for their own
	 * sub-requests too.
	 */
	readonly retry: RetryPolicyOptions;
	/**
	 * How long this client's execution has been held by Graph's throttling, against Max Throttle
	 * Wait: shared by every request of the client (and the endpoint modules' sub-requests).
	 */
	readonly throttleClock = new ThrottleClock();
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
		private readonly budgetKey: string,
		private readonly options: GraphClientOptions,
		private readonly limits: ClientLimits,
		/**
		 * Whose directory data this client may read: the budget key plus the n8n credential, so that names one
		 * credential looked up are never served to another (another tenant, or fewer permissions).
		 */
		readonly cacheScope: string,
	) {
		this.semaphore = new Semaphore(options.concurrency);
		this.retry = retryPolicy(
			options.maxRetries,
			options.maxRetryWaitSeconds,
			options.maxThrottleWaitMinutes,
		);
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
		limits: ClientLimits = {},
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
			limits,
			`${budgetKey}|${ctx.getNode().credentials?.[credentialName]?.id ?? ''}`,
		);
	}

	get node(): INode {
		return this.ctx.getNode();
	}

	/**
	 * The app's shared budget, looked up for each use: the process drops limiters nobody uses, and
	 * a client must never keep using one beside its successor.
	 */
	private get limiter(): RateLimiter {
		return sharedLimiter(this.budgetKey, LIMITER_WINDOW_MS);
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
		const state = { faults: 0, throttled: 0 };
		// On the execution's throttle clock from a throttled answer to the next answer that is not
		// throttling, or to the end of this request however it ends (cancel included).
		let held = false;
		const release = (now: number): void => {
			if (held) this.throttleClock.release(now);
			held = false;
		};
		try {
			for (;;) {
				this.throwIfCancelled();
				let startedAt = 0;
				const outcome = await this.semaphore.run(async () => {
					// One turn after another: the request starts with its last one.
					for (let turn = 0; turn < Math.max(1, request.turns ?? 1); turn++)
						startedAt = await this.startSlot();
					return await this.sendOnce(request);
				});
				// The limiter paces by answer latency and widens probes Graph admitted (429s: below).
				if (!('transportError' in outcome) && outcome.statusCode !== 429)
					this.limiter.answeredAt(startedAt, Date.now());

				let attempt: AttemptOutcome;
				if ('transportError' in outcome) {
					attempt = { kind: 'transport' };
				} else if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
					if (guard(outcome.body)) return { body: outcome.body, startedAt };
					// A 2xx whose body is cut short or not what Graph sends: treat like a dropped connection.
					attempt = { kind: 'transport' };
				} else {
					if (outcome.statusCode >= 300 && outcome.statusCode < 400)
						throw this.redirectError(request, outcome);
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

				const now = Date.now();
				const decision = decideRetry(
					attempt,
					{ ...state, throttleHeldMs: this.throttleClock.heldMs(now) },
					this.retry,
					now,
					Math.random(),
				);
				if (!decision.retry) {
					if (decision.reason === 'throttleBudget' && !('transportError' in outcome))
						throw this.throttleBudgetError(outcome, decision.delayMs ?? 0, now);
					throw this.finalError(request, outcome, state.faults + state.throttled);
				}
				if (decision.throttled) {
					state.throttled++;
					if (!held) this.throttleClock.hold(now);
					held = true;
				} else {
					state.faults++;
					// Graph answered something other than throttling: the request no longer stands refused.
					release(now);
				}
				this.stats.retries++;
				if (attempt.kind === 'status' && attempt.status === 429) {
					this.stats.throttled++;
					// Graph throttles the app, not this request: everyone sharing the budget holds back, and
					// this process takes a smaller share of it (other workers or tools spend the rest).
					this.limiter.throttledAt(
						startedAt,
						now,
						decision.fromRetryAfter ? decision.delayMs : undefined,
					);
				}
				const retryAt = now + decision.delayMs;
				if (this.limits.startBy !== undefined && retryAt > this.limits.startBy)
					throw this.deadlineError(retryAt, true);
				await this.wait(decision.delayMs);
			}
		} finally {
			release(Date.now());
		}
	}

	/**
	 * Graph kept throttling until the execution's Max Throttle Wait would be spent: the error names
	 * the budget and the option, with what Graph said.
	 */
	private throttleBudgetError(outcome: RawResponse, askedMs: number, now: number): Error {
		return throttleBudgetError(
			this.ctx.getNode(),
			outcome.statusCode,
			readGraphError(outcome.body),
			this.throttleClock.heldMs(now),
			this.options.maxThrottleWaitMinutes,
			askedMs,
		);
	}

	/**
	 * Graph requests never follow redirects: n8n's HTTP helper would send the token along (both n8n
	 * lines re-add Authorization on any redirect target unless told otherwise), and Graph does not
	 * redirect the requests this node makes. Only the target's origin is named: a redirect URL may
	 * carry a pre-authenticated token of its own.
	 */
	private redirectError(request: GraphRequest, outcome: RawResponse): Error {
		const location = headerValue(outcome.headers, 'location');
		let target: string | undefined;
		try {
			target = location ? new URL(location, this.url(request.path)).origin : undefined;
		} catch {
			target = undefined;
		}
		return graphApiError(
			this.ctx.getNode(),
			{ message: 'redirect not followed' },
			{
				message: `Microsoft Graph answered ${outcome.statusCode} (a redirect${target ? ` to ${target}` : ''}) to ${request.method} ${request.path.split('?')[0]}; not followed, so the credential's token goes to its Graph host only`,
				description:
					"Graph does not redirect these requests. If the credential's Graph URL (Custom cloud) is a gateway or proxy that redirects, give the address it redirects to as the Graph URL.",
				httpCode: String(outcome.statusCode),
			},
		);
	}

	/** `retry`: the request was sent, and the wait Graph asked for ends after `startBy`. */
	private deadlineError(nextTurn: number, retry = false): StartDeadlineError {
		const by = new Date(this.limits.startBy ?? nextTurn).toISOString();
		const at = new Date(nextTurn).toISOString();
		return new StartDeadlineError(
			this.ctx.getNode(),
			retry
				? `Graph's retry of this request is due at ${at}, after ${by}; not tried again`
				: `The app's Graph budget has no room for this request before ${by} (next turn at ${at}); not sent`,
			{
				description:
					'Every workflow and tool using this app registration shares its Graph budget (1,500 requests per 30 seconds). Lower their use, or give this one its own app registration.',
			},
		);
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
			// A 3xx comes back as an answer (refused by the request loop) instead of being followed with
			// the token: both n8n lines re-add Authorization on cross-origin redirects by default.
			disableFollowRedirect: true,
			sendCredentialsOnCrossOriginRedirect: false,
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
	 * The URL of a Graph path below the version; a full URL (a next link) only on this credential's
	 * own Graph host.
	 */
	url(path: string): string {
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
	 * taken anew. A turn after `startBy` is given back at once, and the request fails.
	 */
	private async startSlot(): Promise<number> {
		for (;;) {
			// One limiter for the whole turn: reserved, held and given back on the same one.
			const limiter = this.limiter;
			const reservedAt = Date.now();
			const at = reservedAt + limiter.reserve(reservedAt, this.options.maxRequestsPer30Seconds);
			if (this.limits.startBy !== undefined && at > this.limits.startBy) {
				limiter.release(at);
				throw this.deadlineError(at);
			}
			let started = false;
			try {
				await this.wait(at - reservedAt);
				started = limiter.holdAt(Date.now()) === 0;
			} finally {
				// Cancelled while waiting, or paused meanwhile: the turn was not used.
				if (!started) limiter.release(at);
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
