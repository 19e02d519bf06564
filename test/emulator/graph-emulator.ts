import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
	Directory,
	type EmulatedGroup,
	type EmulatedUser,
	type GroupOptions,
	type PreferredPresence,
	type Presence,
	type PresenceSession,
	type PresenceUpdate,
	type UserUpdate,
} from './directory';
import {
	DEFAULT_SLOW_MS,
	RetryAfter,
	SlidingWindowThrottle,
	drawFault,
	validateFaults,
	type FaultConfig,
	type FaultKind,
	type RetryAfterFormat,
	type ThrottleConfig,
} from './faults';
import {
	GRAPH_JSON,
	graphError,
	routeGraph,
	type GraphRequest,
	type GraphResult,
} from './graph-routes';
import {
	DEFAULT_NOTIFICATION_BATCH_MS,
	SubscriptionService,
	validateRedelivery,
	type RedeliveryConfig,
	type EmulatedSubscription,
	type ForgedToken,
	type LifecycleEvent,
} from './subscriptions';
import {
	TokenService,
	type AppRegistration,
	type LoginResponse,
	type TokenCheck,
	type TokenKind,
	type TokenRecord,
} from './tokens';
import {
	createRng,
	flattenHeaders,
	isRecord,
	queryToRecord,
	redactHeaders,
	shuffle,
	type Rng,
} from './util';
import {
	DEFAULT_DELIVERY_POLICY,
	WebhookSender,
	validateDeliveryPolicy,
	type Delivery,
	type DeliveryPolicy,
} from './webhooks';

export interface GraphEmulatorOptions {
	latencyMs?: number;
	/** Default: 1,500 requests per 30 s per tenant + client id, Graph's documented presence limit. */
	throttle?: ThrottleConfig | false;
	/** Drives user ids, presences, response shuffling and fault draws. Default 1. */
	seed?: number;
	/** Default 3599, what Entra usually returns. */
	tokenLifetimeSeconds?: number;
	faults?: FaultConfig;
	retryAfterFormat?: RetryAfterFormat;
	/** Default 0: any free port. */
	port?: number;
	/** Presence changes for the same notification URL within this window go out as one POST. Default 50. */
	notificationBatchMs?: number;
	/** Timeouts and retries of webhook deliveries; unset fields keep DEFAULT_DELIVERY_POLICY. */
	deliveryPolicy?: Partial<DeliveryPolicy>;
	/** At most this many notifications in one POST; a full batch goes out at once. Default: no limit. */
	notificationBatchSize?: number;
	/** Some notification POSTs sent twice (see RedeliveryConfig). Default: none. */
	redelivery?: RedeliveryConfig;
	/** Keep every presence a read answered with in `presenceReads` (off by default: big runs read millions). */
	recordPresenceReads?: boolean;
}

/** One presence a read answered with (GET presence or getPresencesByUserId), when `recordPresenceReads` is on. */
export interface PresenceRead {
	/** When it was read (ms since epoch, real time). */
	time: number;
	/** Lower case. */
	userId: string;
	sequenceNumber: string;
	availability: string;
	activity: string;
	clientId?: string;
}

export interface LogEntry {
	/** When the request arrived (ms since epoch). */
	time: number;
	method: string;
	/** Without the query; $batch sub-requests show the version prefix too, e.g. '/v1.0/users/x'. */
	path: string;
	query: Record<string, string>;
	/** Parsed JSON, the form fields of login requests (secrets redacted), or the raw text. */
	body: unknown;
	/** 0 when the socket was reset without an answer. */
	status: number;
	fault?: FaultKind;
	/** Set when the emulator's own rate limit (not an injected fault) answered 429. */
	throttled?: boolean;
	tokenKind?: TokenKind;
	clientId?: string;
	headers: Record<string, string>;
	batchSubRequest?: boolean;
}

/**
 * A redirect the emulator answers instead of the route: Graph answers some requests with a 302 to
 * another host (a file's content: "302 Found ... redirecting to a preauthenticated download URL",
 * driveitem-get-content on learn.microsoft.com), and a gateway or proxy in front of Graph may
 * redirect anything. A client must not send its bearer token there.
 */
export interface RedirectRule {
	/** Requests whose path (after the version) contains this. */
	path: string;
	/** The Location header. */
	location: string;
	/** Default 302. */
	status?: number;
}

/**
 * Rewrites the `@odata.nextLink` of collection answers on paths containing `path` (`link` is what the
 * emulator would send, undefined on the last page; return undefined for none). Graph's own paging has
 * been seen to repeat a next link or cycle back to a page already read (transitiveMembers and /groups:
 * msgraph-sdk-dotnet issue 2108; the same $skiptoken again: microsoft-graph-docs issue 6754).
 */
export interface NextLinkRewrite {
	path: string;
	rewrite: (
		link: string | undefined,
		request: { path: string; query: Record<string, string> },
	) => string | undefined;
}

export interface EmulatorStats {
	total: number;
	byStatus: Record<string, number>;
	faults: Record<string, number>;
	throttled: number;
}

export const DEFAULT_THROTTLE: Readonly<ThrottleConfig> = { limit: 1500, windowMs: 30_000 };
export const MAX_BATCH_REQUESTS = 20;
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Graph's own first-party app id, which it names in WWW-Authenticate. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** Login form fields that must not end up in a log someone might print. */
const SECRET_FIELDS = new Set([
	'client_secret',
	'client_assertion',
	'refresh_token',
	'code',
	'code_verifier',
]);

export class GraphEmulator {
	readonly url: string;
	readonly loginBaseUrl: string;
	latencyMs: number;
	readonly log: LogEntry[] = [];
	/** Client ids whose permissions were never consented to: Graph answers them 403 Forbidden. */
	readonly unconsentedClients = new Set<string>();
	/** Every webhook request the emulator made (validation, notification, lifecycle), one entry per attempt. */
	readonly deliveries: Delivery[] = [];
	/** See GraphEmulatorOptions.recordPresenceReads. */
	readonly presenceReads: PresenceRead[] = [];

	/** Answered before the route, after the token check; see RedirectRule. */
	readonly redirects: RedirectRule[] = [];
	/** See NextLinkRewrite. */
	nextLinkRewrite: NextLinkRewrite | undefined;

	private throttleConfig: ThrottleConfig | false;
	/** Every clientState a client sent (POST/PATCH /subscriptions), for secret scans; the log has them redacted. */
	private readonly clientStates = new Set<string>();
	private throttleWindow = new SlidingWindowThrottle();
	private faultConfig: FaultConfig = {};
	private readonly retryAfter = new RetryAfter();
	private readonly directory: Directory;
	private readonly tokens: TokenService;
	private faultRng: Rng;
	private readonly shuffleRng: Rng;
	private explicitMeUserId: string | undefined;
	private presenceClockOffsetMs = 0;
	private clockOffsetMs = 0;
	private batchMs = DEFAULT_NOTIFICATION_BATCH_MS;
	private batchSize = Infinity;
	private redeliveryConfig: RedeliveryConfig | undefined;
	private readonly recordReads: boolean;
	private policy: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY };
	private readonly webhooks: WebhookSender;
	private readonly subscriptionService: SubscriptionService;
	private counters: EmulatorStats = emptyStats();
	private readonly sockets = new Set<Socket>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private stopping: Promise<void> | undefined;

	static async start(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
		const server = createServer();
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(options.port ?? 0, '127.0.0.1', () => {
				server.off('error', reject);
				resolve();
			});
		});
		const address = server.address();
		if (address === null || typeof address === 'string')
			throw new Error('Graph emulator did not get a TCP port');
		return new GraphEmulator(server, `http://127.0.0.1:${address.port}`, options);
	}

	private constructor(
		private readonly server: Server,
		url: string,
		options: GraphEmulatorOptions,
	) {
		const seed = options.seed ?? 1;
		this.url = url;
		this.loginBaseUrl = `${url}/login`;
		this.latencyMs = options.latencyMs ?? 0;
		this.throttleConfig =
			options.throttle === undefined ? { ...DEFAULT_THROTTLE } : options.throttle;
		this.directory = new Directory(seed);
		this.tokens = new TokenService(
			this.loginBaseUrl,
			options.tokenLifetimeSeconds ?? 3599,
			() => this.meUserId,
		);
		// Separate streams, so adding a fault rate does not change the shuffle order a test relies on.
		this.faultRng = createRng(seed ^ 0x9e3779b9);
		this.shuffleRng = createRng(seed ^ 0x85ebca6b);
		if (options.faults !== undefined) this.faults = options.faults;
		if (options.retryAfterFormat !== undefined) this.retryAfterFormat = options.retryAfterFormat;
		if (options.notificationBatchMs !== undefined)
			this.notificationBatchMs = options.notificationBatchMs;
		if (options.deliveryPolicy !== undefined) this.deliveryPolicy = options.deliveryPolicy;
		if (options.notificationBatchSize !== undefined)
			this.notificationBatchSize = options.notificationBatchSize;
		if (options.redelivery !== undefined) this.redelivery = options.redelivery;
		this.recordReads = options.recordPresenceReads === true;
		const redeliveryRng = createRng(seed ^ 0xc2b2ae35);
		this.webhooks = new WebhookSender(this.deliveries, () => this.policy);
		this.subscriptionService = new SubscriptionService({
			baseUrl: url,
			loginBaseUrl: this.loginBaseUrl,
			now: () => this.now,
			sender: this.webhooks,
			batchMs: () => this.batchMs,
			batchSize: () => this.batchSize,
			redelivery: () => this.redeliveryConfig,
			redeliveryRng,
			presence: (userId) => {
				const user = this.directory.get(userId);
				return user === undefined
					? undefined
					: this.directory.effectivePresence(user, this.presenceNow());
			},
			expirePresence: (userId) => {
				const user = this.directory.get(userId);
				if (user !== undefined) this.directory.expire(user, this.presenceNow());
			},
		});
		this.directory.onChange = (user) => this.subscriptionService.presenceChanged(user.id);

		server.on('connection', (socket: Socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
		server.on('request', (req: IncomingMessage, res: ServerResponse) => {
			this.handle(req, res).catch((err: unknown) => {
				if (res.headersSent) {
					res.destroy();
					return;
				}
				res.writeHead(500, { 'Content-Type': 'text/plain' });
				res.end(`graph emulator error: ${err instanceof Error ? err.message : String(err)}`);
			});
		});
	}

	// ---- users and presence ----

	get users(): readonly EmulatedUser[] {
		return this.directory.users;
	}

	addUsers(count: number): EmulatedUser[] {
		return this.directory.add(count);
	}

	getUser(idOrUpn: string): EmulatedUser | undefined {
		return this.directory.get(idOrUpn);
	}

	/** Changes a user's mail, proxyAddresses or display name (e.g. two users with one address). */
	updateUser(idOrUpn: string, update: UserUpdate): EmulatedUser {
		return this.directory.updateUser(idOrUpn, update);
	}

	/** Advances sequenceNumber, like every real presence change. */
	setPresence(idOrUpn: string, update: PresenceUpdate): Presence {
		return this.directory.setPresence(idOrUpn, update);
	}

	/**
	 * What the presence routes answer for the user: the preferred presence (setUserPreferredPresence) if set and
	 * not expired, else the newest live app session (setPresence), else the base presence (`setPresence` here),
	 * with the manual, else automatic, work location over the base one. `getUser(id).presence` stays the base.
	 */
	effectivePresence(idOrUpn: string): Presence {
		return this.directory.effectivePresence(
			this.requireUser(idOrUpn, 'effectivePresence'),
			this.presenceNow(),
		);
	}

	/** The user's live app presence sessions (set through POST .../presence/setPresence), newest first. */
	presenceSessions(idOrUpn: string): PresenceSession[] {
		return this.directory.sessionsOf(
			this.requireUser(idOrUpn, 'presenceSessions'),
			this.presenceNow(),
		);
	}

	/** The user's preferred presence if set and not expired. */
	preferredPresence(idOrUpn: string): PreferredPresence | undefined {
		return this.directory.preferredOf(
			this.requireUser(idOrUpn, 'preferredPresence'),
			this.presenceNow(),
		);
	}

	/**
	 * Moves the presence clock forward (session and preferred-presence expiry, publishedDateTime), so tests can
	 * expire a PT5M session without waiting. Tokens, throttling and the log keep real time.
	 */
	advancePresenceClock(ms: number): void {
		if (!(Number.isFinite(ms) && ms >= 0))
			throw new RangeError(`advancePresenceClock needs a finite ms >= 0, got ${ms}`);
		this.presenceClockOffsetMs += ms;
		// Sessions that expired just now are presence changes that subscribers hear about.
		this.subscriptionService.sweep();
	}

	// ---- change notifications (subscriptions) ----

	/**
	 * The emulator's clock (ms since epoch) for subscriptions: their expiry and the 60-minute rule. Real time plus
	 * every `advanceClock`. Tokens, throttling and the logs keep real time.
	 */
	get now(): number {
		return Date.now() + this.clockOffsetMs;
	}

	/**
	 * Moves the subscription clock and the presence clock (as `advancePresenceClock` does) forward: subscriptions
	 * past their expirationDateTime are gone, sessions past theirs expire and notify.
	 */
	advanceClock(ms: number): void {
		if (!(Number.isFinite(ms) && ms >= 0))
			throw new RangeError(`advanceClock needs a finite ms >= 0, got ${ms}`);
		this.clockOffsetMs += ms;
		this.presenceClockOffsetMs += ms;
		this.subscriptionService.sweep();
	}

	/** Live subscriptions (not expired, deleted or dropped), of every app. */
	get subscriptions(): EmulatedSubscription[] {
		return this.subscriptionService.subscriptions;
	}

	/** The subscription expires `msLeft` from now (its life shortened, as if time had passed without a renewal). */
	expireSubscriptionIn(id: string, msLeft: number): boolean {
		return this.subscriptionService.expireIn(id, msLeft);
	}

	/** Graph forgets the subscription silently (no lifecycle event); its id answers 404 from now on. */
	dropSubscription(id: string): boolean {
		return this.subscriptionService.drop(id);
	}

	/**
	 * POSTs a lifecycle notification to the subscription's lifecycleNotificationUrl (else its notificationUrl),
	 * with the usual retries; resolves true once a 2xx answered. `subscriptionRemoved` deletes the subscription.
	 * Throws for an id that is not live.
	 */
	sendLifecycleEvent(subscriptionId: string, event: LifecycleEvent): Promise<boolean> {
		return this.subscriptionService.sendLifecycleEvent(subscriptionId, event);
	}

	/** The next rich notification (one entry) carries a dataSignature that does not match its data. */
	tamperNextSignature(): void {
		this.subscriptionService.tamperNextSignature();
	}

	/** A genuine validation token of rich notifications for the app in the tenant (for crafted deliveries). */
	validationToken(clientId: string, tenantId: string): string {
		return this.subscriptionService.issueValidationToken(clientId, tenantId);
	}

	/** The next rich delivery's validation token is forged in the given way. */
	forgeNextValidationToken(kind: ForgedToken): void {
		this.subscriptionService.forgeNextValidationToken(kind);
	}

	/** Validation tokens are signed with a new key from now on (the old one stays published, as Entra's do). */
	rotateNotificationSigningKey(): void {
		this.subscriptionService.rotateSigningKey();
	}

	get notificationBatchMs(): number {
		return this.batchMs;
	}

	/** Applies to batches opened from now on. 0 still coalesces changes made in the same tick. */
	set notificationBatchMs(ms: number) {
		if (!(Number.isFinite(ms) && ms >= 0))
			throw new RangeError(`notificationBatchMs must be a finite number >= 0, got ${ms}`);
		this.batchMs = ms;
	}

	get notificationBatchSize(): number {
		return this.batchSize;
	}

	/** Applies from the next notification on; Infinity lifts the limit. */
	set notificationBatchSize(size: number) {
		if (!(size === Infinity || (Number.isInteger(size) && size >= 1)))
			throw new RangeError(`notificationBatchSize must be a whole number >= 1, got ${size}`);
		this.batchSize = size;
	}

	get redelivery(): RedeliveryConfig | undefined {
		return this.redeliveryConfig && { ...this.redeliveryConfig };
	}

	set redelivery(config: RedeliveryConfig | undefined) {
		this.redeliveryConfig = config === undefined ? undefined : validateRedelivery(config);
	}

	get deliveryPolicy(): DeliveryPolicy {
		return { ...this.policy };
	}

	/** Fields left out keep their current value. */
	set deliveryPolicy(policy: Partial<DeliveryPolicy>) {
		this.policy = validateDeliveryPolicy({ ...this.policy, ...policy });
	}

	/** Extra CA certificate(s) (PEM) to trust for https webhook receivers, e.g. a test's self-signed one. */
	get webhookCa(): string | Buffer | undefined {
		return this.webhooks.ca;
	}

	set webhookCa(ca: string | Buffer | undefined) {
		this.webhooks.ca = ca;
	}

	/** Resolves once no notification waits in a batch window and no delivery (retries included) is under way. */
	async deliveriesIdle(): Promise<void> {
		while (
			this.stopping === undefined &&
			(this.subscriptionService.pending || this.webhooks.busy)
		) {
			await new Promise<void>((resolve) => setTimeout(resolve, 5));
		}
	}

	// ---- groups ----

	/** Members are user ids/UPNs or ids of groups added before; ids are deterministic per seed and call order. */
	addGroup(options: GroupOptions): { id: string; displayName: string } {
		return this.directory.addGroup(options);
	}

	/** For nesting after the fact, cycles included (A in B and B in A). */
	addGroupMembers(groupId: string, members: string[]): void {
		this.directory.addGroupMembers(groupId, members);
	}

	get groups(): readonly EmulatedGroup[] {
		return this.directory.groups;
	}

	/** Who delegated tokens act as: set explicitly, else the first user. */
	get meUserId(): string | undefined {
		return this.explicitMeUserId ?? this.directory.users[0]?.id;
	}

	set meUserId(idOrUpn: string) {
		const user = this.directory.get(idOrUpn);
		if (user === undefined) throw new Error(`meUserId: no emulated user '${idOrUpn}'`);
		this.explicitMeUserId = user.id;
	}

	private requireUser(idOrUpn: string, caller: string): EmulatedUser {
		const user = this.directory.get(idOrUpn);
		if (user === undefined) throw new Error(`${caller}: no emulated user '${idOrUpn}'`);
		return user;
	}

	private presenceNow(): number {
		return Date.now() + this.presenceClockOffsetMs;
	}

	// ---- apps and tokens ----

	registerApp(registration: AppRegistration): void {
		this.tokens.registerApp(registration);
	}

	/** Every access and refresh token handed out, so tests can scan outputs and logs for leaks. */
	get tokensIssued(): string[] {
		return [...this.tokens.issued];
	}

	tokenRecord(accessToken: string): TokenRecord | undefined {
		return this.tokens.record(accessToken);
	}

	/** Issued access tokens answer 401 from now on; refresh tokens keep working. */
	expireAllTokens(): void {
		this.tokens.expireAll(Date.now());
	}

	get tokenLifetimeSeconds(): number {
		return this.tokens.lifetimeSeconds;
	}

	set tokenLifetimeSeconds(seconds: number) {
		this.tokens.lifetimeSeconds = seconds;
	}

	// ---- throttling and faults ----

	get throttle(): ThrottleConfig | false {
		return this.throttleConfig === false ? false : { ...this.throttleConfig };
	}

	/** A new setting starts from an empty window, so a test's request counts start from zero. */
	set throttle(config: ThrottleConfig | false) {
		if (config !== false && !(config.limit >= 1 && config.windowMs > 0)) {
			throw new RangeError('throttle needs limit >= 1 and windowMs > 0');
		}
		this.throttleConfig = config === false ? false : { ...config };
		this.throttleWindow = new SlidingWindowThrottle();
	}

	get faults(): FaultConfig {
		return { ...this.faultConfig };
	}

	set faults(config: FaultConfig) {
		this.faultConfig = validateFaults(config);
	}

	/**
	 * Restarts the sequence of fault draws from `seed`, so which requests fail no longer depends on
	 * how many requests earlier tests on this emulator made.
	 */
	seedFaults(seed: number): void {
		this.faultRng = createRng(seed ^ 0x9e3779b9);
	}

	get retryAfterFormat(): RetryAfterFormat {
		return this.retryAfter.format;
	}

	set retryAfterFormat(format: RetryAfterFormat) {
		if (!['seconds', 'date', 'alternate', 'none'].includes(format))
			throw new RangeError(`unknown retryAfterFormat '${format}'`);
		this.retryAfter.format = format;
	}

	/** Every clientState clients sent, so tests can scan outputs and logs (the emulator's own included) for leaks. */
	get clientStatesSeen(): string[] {
		return [...this.clientStates];
	}

	// ---- log ----

	requests(pathSubstring?: string): LogEntry[] {
		return pathSubstring === undefined
			? [...this.log]
			: this.log.filter((e) => e.path.includes(pathSubstring));
	}

	get stats(): EmulatorStats {
		return {
			...this.counters,
			byStatus: { ...this.counters.byStatus },
			faults: { ...this.counters.faults },
		};
	}

	/** Clears the counters too, so "since the last clearLog" means the same for both. */
	clearLog(): void {
		this.log.length = 0;
		this.counters = emptyStats();
	}

	// ---- lifecycle ----

	/**
	 * Destroys open (keep-alive) sockets too, so jest is not held open by idle connections, drops notifications
	 * still in a batch window, and aborts webhook deliveries under way (waiting until they have settled).
	 */
	stop(): Promise<void> {
		this.stopping ??= new Promise<void>((resolve) => {
			this.subscriptionService.stop();
			const deliveriesStopped = this.webhooks.stop();
			for (const timer of this.timers) clearTimeout(timer);
			this.timers.clear();
			for (const socket of this.sockets) socket.destroy();
			this.sockets.clear();
			this.server.close(() => {
				void deliveriesStopped.then(() => resolve());
			});
		});
		return this.stopping;
	}

	close(): Promise<void> {
		return this.stop();
	}

	// ---- request pipeline ----

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const time = Date.now();
		const url = new URL(req.url ?? '/', this.url);
		const headers = flattenHeaders(req.headers);
		const raw = await readBody(req);
		if (this.latencyMs > 0) await this.sleep(this.latencyMs);

		if (/^\/login\//i.test(url.pathname)) {
			this.handleLogin(req, res, url, headers, raw, time);
			return;
		}
		const text = raw.toString('utf8');
		const body = parseJson(text);
		const entry: LogEntry = {
			time,
			method: (req.method ?? 'GET').toUpperCase(),
			path: url.pathname,
			query: queryToRecord(url.searchParams),
			// clientState is the subscriber's secret: kept out of the log, as tokens are (in $batch bodies too).
			body: redactClientStates(body, this.clientStates),
			status: 0,
			headers: redactHeaders(headers),
		};
		const graphReq: GraphRequest = {
			method: entry.method,
			version: '',
			path: url.pathname,
			query: entry.query,
			body,
			requestId: randomUUID(),
			clientRequestId: headers['client-request-id'],
			headers,
		};
		const version = /^\/(v1\.0|beta)(\/.*)?$/i.exec(url.pathname);
		if (version === null) {
			this.writeGraph(
				req,
				res,
				graphReq,
				graphError(
					graphReq,
					400,
					'BadRequest',
					`Invalid version in '${url.pathname}': use /v1.0 or /beta.`,
				),
				entry,
			);
			return;
		}
		graphReq.version = version[1].toLowerCase();
		graphReq.path = version[2] ?? '/';

		const check = this.tokens.check(headers.authorization, Date.now());
		entry.tokenKind = check.record?.kind;
		entry.clientId = check.record?.clientId;

		const redirect = check.ok
			? this.redirects.find((rule) => graphReq.path.includes(rule.path))
			: undefined;
		if (redirect !== undefined) {
			const result = {
				status: redirect.status ?? 302,
				headers: { Location: redirect.location },
				body: undefined,
			};
			this.writeGraph(req, res, graphReq, result, entry);
			return;
		}

		const fault = drawFault(this.faultConfig, this.faultRng, false);
		if (fault !== undefined) entry.fault = fault;
		if (fault === 'reset') {
			this.record(entry);
			req.socket.destroy();
			return;
		}
		if (fault === 'slow') await this.sleep(this.faultConfig.slowMs ?? DEFAULT_SLOW_MS);
		const result =
			this.injectedStatus(graphReq, fault) ?? this.dispatch(graphReq, check, entry, false);
		// Only subscription creation (its validation handshake) is asynchronous; everything else answers in this tick.
		this.writeGraph(req, res, graphReq, result instanceof Promise ? await result : result, entry);
	}

	/** Auth, then throttling, then the route. Shared by top-level requests and $batch sub-requests. */
	private dispatch(
		req: GraphRequest,
		check: TokenCheck,
		entry: LogEntry,
		inBatch: boolean,
	): GraphResult | Promise<GraphResult> {
		if (!check.ok) return this.unauthorized(req, check.reason);
		if (
			this.unconsentedClients.has(check.record.clientId.toLowerCase()) &&
			!/^\/\$batch\/?$/i.test(req.path)
		) {
			return graphError(
				req,
				403,
				'Forbidden',
				'Insufficient privileges to complete the operation.',
			);
		}
		if (/^\/\$batch\/?$/i.test(req.path)) {
			if (inBatch)
				return graphError(
					req,
					400,
					'BadRequest',
					'A $batch request cannot contain another $batch request.',
				);
			if (req.method !== 'POST')
				return graphError(
					req,
					405,
					'Request_BadRequest',
					`Specified HTTP method '${req.method}' is not allowed for $batch.`,
				);
			// The envelope itself is not counted: "Requests in a batch are evaluated individually against throttling
			// limits and if any request exceeds the limits, it fails with a status of 429", each with its own
			// Retry-After inside the batch answer (concepts/throttling.md, "Throttling and batching").
			return this.batch(req, check.record);
		}
		if (this.throttleConfig !== false) {
			const key = `${check.record.tenantId}|${check.record.clientId}`.toLowerCase();
			const waitMs = this.throttleWindow.take(key, this.throttleConfig, Date.now());
			if (waitMs > 0) {
				entry.throttled = true;
				return graphError(
					req,
					429,
					'TooManyRequests',
					'Too many requests.',
					this.retryAfterHeader(waitMs),
				);
			}
		}
		const subscriptionResult = this.subscriptionService.route(req, check.record);
		if (subscriptionResult !== undefined) return subscriptionResult;
		return routeGraph(req, {
			directory: this.directory,
			token: check.record,
			shuffleRng: this.shuffleRng,
			baseUrl: this.url,
			now: this.presenceNow(),
			...(this.recordReads
				? {
						served: (presence: Presence) =>
							this.presenceReads.push({
								time: Date.now(),
								userId: presence.id.toLowerCase(),
								sequenceNumber: presence.sequenceNumber,
								availability: presence.availability,
								activity: presence.activity,
								...(check.record.clientId === undefined ? {} : { clientId: check.record.clientId }),
							}),
					}
				: {}),
		});
	}

	private batch(req: GraphRequest, token: TokenRecord): GraphResult | Promise<GraphResult> {
		const requests: unknown = isRecord(req.body) ? req.body.requests : undefined;
		if (!Array.isArray(requests) || requests.length === 0) {
			return graphError(
				req,
				400,
				'BadRequest',
				"Invalid batch payload format: 'requests' must be a non-empty array.",
			);
		}
		if (requests.length > MAX_BATCH_REQUESTS) {
			return graphError(
				req,
				400,
				'BadRequest',
				`The number of batch requests exceeds the limit of ${MAX_BATCH_REQUESTS}.`,
			);
		}
		const subs: SubRequest[] = [];
		for (const item of requests) {
			const sub = parseSubRequest(item);
			if (sub === undefined)
				return graphError(
					req,
					400,
					'BadRequest',
					'Invalid batch payload format: every request needs string id, method and url.',
				);
			if (subs.some((s) => s.id === sub.id))
				return graphError(req, 400, 'BadRequest', `Batch request id '${sub.id}' is not unique.`);
			subs.push(sub);
		}
		const responses = subs.map((sub) => this.subRequest(req, sub, token));
		// Graph answers in any order; shuffling makes clients that rely on request order fail here, not in production.
		const answer = (all: BatchResponse[]): GraphResult => ({
			status: 200,
			headers: { 'Content-Type': GRAPH_JSON },
			body: { responses: shuffle(all, this.shuffleRng) },
		});
		// Every sub-request has run (and drawn its faults) already; only a subscription's handshake may still be pending.
		if (responses.some((r) => r instanceof Promise)) return Promise.all(responses).then(answer);
		return answer(responses as BatchResponse[]);
	}

	private subRequest(
		outer: GraphRequest,
		sub: SubRequest,
		token: TokenRecord,
	): BatchResponse | Promise<BatchResponse> {
		const url = new URL(sub.url.startsWith('/') ? sub.url : `/${sub.url}`, this.url);
		const entry: LogEntry = {
			time: Date.now(),
			method: sub.method,
			path: `/${outer.version}${url.pathname}`,
			query: queryToRecord(url.searchParams),
			body: redactClientStates(sub.body, this.clientStates),
			status: 0,
			headers: redactHeaders(sub.headers),
			tokenKind: token.kind,
			clientId: token.clientId,
			batchSubRequest: true,
		};
		const req: GraphRequest = {
			method: sub.method,
			version: outer.version,
			path: url.pathname,
			query: entry.query,
			body: sub.body,
			requestId: randomUUID(),
			clientRequestId: sub.headers['client-request-id'],
			headers: sub.headers,
		};
		const fault = drawFault(this.faultConfig, this.faultRng, true);
		if (fault !== undefined) entry.fault = fault;
		let result: GraphResult | Promise<GraphResult>;
		if (/^[a-z][a-z0-9+.-]*:/i.test(sub.url)) {
			result = graphError(
				req,
				400,
				'BadRequest',
				`Batch request id '${sub.id}': the url must be relative, e.g. '/users/{id}'.`,
			);
		} else if (sub.body !== undefined && sub.headers['content-type'] === undefined) {
			result = graphError(
				req,
				400,
				'BadRequest',
				`Write request id : ${sub.id} does not contain Content-Type header or body.`,
			);
		} else {
			result =
				this.injectedStatus(req, fault) ??
				this.dispatch(req, { ok: true, record: token }, entry, true);
		}
		const finish = (done: GraphResult): BatchResponse => {
			entry.status = done.status;
			this.record(entry);
			return { id: sub.id, status: done.status, headers: done.headers, body: done.body };
		};
		return result instanceof Promise ? result.then(finish) : finish(result);
	}

	private injectedStatus(req: GraphRequest, fault: FaultKind | undefined): GraphResult | undefined {
		const retryMs = (this.faultConfig.retryAfterSeconds ?? 1) * 1000;
		switch (fault) {
			case '429':
				return graphError(
					req,
					429,
					'TooManyRequests',
					'Too many requests (injected fault).',
					this.retryAfterHeader(retryMs),
				);
			case '503':
				return graphError(
					req,
					503,
					'ServiceUnavailable',
					'The service is temporarily unavailable (injected fault).',
					this.retryAfterHeader(retryMs),
				);
			case '504':
				return graphError(req, 504, 'GatewayTimeout', 'The gateway timed out (injected fault).');
			default:
				return undefined;
		}
	}

	private unauthorized(req: GraphRequest, reason: 'missing' | 'unknown' | 'expired'): GraphResult {
		const messages = {
			missing: 'Access token is empty.',
			unknown: 'Access token validation failure.',
			expired: 'Lifetime validation failed, the token is expired.',
		};
		return graphError(req, 401, 'InvalidAuthenticationToken', messages[reason], {
			'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.loginBaseUrl}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
		});
	}

	private retryAfterHeader(waitMs: number): Record<string, string> {
		const value = this.retryAfter.header(waitMs);
		return value === undefined ? {} : { 'Retry-After': value };
	}

	private writeGraph(
		req: IncomingMessage,
		res: ServerResponse,
		graphReq: GraphRequest,
		answer: GraphResult,
		entry: LogEntry,
	): void {
		let result = answer;
		const rewrite = this.nextLinkRewrite;
		if (
			rewrite !== undefined &&
			graphReq.path.includes(rewrite.path) &&
			isRecord(result.body) &&
			Array.isArray(result.body.value)
		) {
			const { '@odata.nextLink': link, ...rest } = result.body;
			const next = rewrite.rewrite(typeof link === 'string' ? link : undefined, {
				path: graphReq.path,
				query: graphReq.query,
			});
			result = {
				...result,
				body: next === undefined ? rest : { ...rest, '@odata.nextLink': next },
			};
		}
		// Write actions answer with no body at all.
		const payload =
			result.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(result.body));
		const headers: Record<string, string> = {
			...result.headers,
			'request-id': graphReq.requestId,
			'client-request-id': graphReq.clientRequestId ?? graphReq.requestId,
		};
		// Half of a JSON object is never valid JSON: its only closing brace is the last character. An empty
		// answer gets a lone '{' instead, so the fault still shows.
		const half =
			payload.length === 0
				? Buffer.from('{')
				: payload.subarray(0, Math.max(1, Math.floor(payload.length / 2)));
		if (entry.fault === 'malformedJson') {
			entry.status = 200;
			res.writeHead(200, { ...headers, 'Content-Length': String(half.length) });
			res.end(half);
		} else if (entry.fault === 'truncated') {
			entry.status = 200;
			res.writeHead(200, {
				...headers,
				'Content-Length': String(Math.max(payload.length, half.length + 1)),
			});
			res.write(half, () => req.socket.destroy());
		} else {
			entry.status = result.status;
			// A 204 must not carry Content-Length (RFC 9110 §8.6).
			res.writeHead(
				result.status,
				result.status === 204 ? headers : { ...headers, 'Content-Length': String(payload.length) },
			);
			res.end(payload);
		}
		this.record(entry);
	}

	private handleLogin(
		req: IncomingMessage,
		res: ServerResponse,
		url: URL,
		headers: Record<string, string>,
		raw: Buffer,
		time: number,
	): void {
		const method = (req.method ?? 'GET').toUpperCase();
		const form = new URLSearchParams(raw.toString('utf8'));
		const loggedForm: Record<string, string> = {};
		form.forEach((value, key) => {
			loggedForm[key] = SECRET_FIELDS.has(key) ? '<redacted>' : value;
		});
		const query = queryToRecord(url.searchParams);
		const match =
			/^\/login\/([^/]+)\/(oauth2\/v2\.0\/token|oauth2\/v2\.0\/authorize|v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|discovery\/keys)\/?$/i.exec(
				url.pathname,
			);
		const now = Date.now();
		let response: LoginResponse;
		const endpoint = match?.[2].toLowerCase();
		if (match === null) {
			response = {
				status: 404,
				headers: { 'Content-Type': 'application/json' },
				body: {
					error: 'invalid_request',
					error_description: `No such login endpoint: ${url.pathname}`,
				},
			};
		} else if (endpoint === 'oauth2/v2.0/token' && method === 'POST') {
			response = this.tokens.token(match[1], form, headers.authorization, now);
		} else if (endpoint === 'oauth2/v2.0/authorize' && method === 'GET') {
			response = this.tokens.authorize(match[1], url.searchParams, now);
		} else if (endpoint === 'v2.0/.well-known/openid-configuration' && method === 'GET') {
			response = this.tokens.openIdConfiguration(match[1]);
		} else if (endpoint?.startsWith('discovery/') && method === 'GET') {
			// The keys that sign the validation tokens of rich notifications, as the identity platform publishes them
			// (https://learn.microsoft.com/graph/change-notifications-with-resource-data, "How to validate").
			response = {
				status: 200,
				headers: { 'Content-Type': 'application/json' },
				body: this.subscriptionService.signingKeys(),
			};
		} else {
			response = {
				status: 405,
				headers: { 'Content-Type': 'application/json' },
				body: { error: 'invalid_request', error_description: `${method} is not allowed here.` },
			};
		}
		const payload =
			response.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(response.body));
		res.writeHead(response.status, {
			...response.headers,
			'Content-Length': String(payload.length),
		});
		res.end(payload);
		this.record({
			time,
			method,
			path: url.pathname,
			query,
			body: raw.length === 0 ? undefined : loggedForm,
			status: response.status,
			clientId: response.clientId,
			headers: redactHeaders(headers),
		});
	}

	private record(entry: LogEntry): void {
		this.log.push(entry);
		const c = this.counters;
		c.total += 1;
		c.byStatus[entry.status] = (c.byStatus[entry.status] ?? 0) + 1;
		if (entry.fault !== undefined) c.faults[entry.fault] = (c.faults[entry.fault] ?? 0) + 1;
		if (entry.throttled === true) c.throttled += 1;
	}

	/** Timers are tracked so stop() can cancel them; a cancelled request simply never answers. */
	private sleep(ms: number): Promise<void> {
		return new Promise<void>((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.add(timer);
		});
	}
}

interface SubRequest {
	id: string;
	method: string;
	url: string;
	headers: Record<string, string>;
	body: unknown;
}

interface BatchResponse {
	id: string;
	status: number;
	headers: Record<string, string>;
	body: unknown;
}

function parseSubRequest(item: unknown): SubRequest | undefined {
	if (!isRecord(item)) return undefined;
	const { id, method, url, headers, body } = item;
	if (typeof id !== 'string' || typeof method !== 'string' || typeof url !== 'string')
		return undefined;
	const flat: Record<string, string> = {};
	if (isRecord(headers)) {
		for (const [name, value] of Object.entries(headers)) {
			if (typeof value === 'string') flat[name.toLowerCase()] = value;
		}
	}
	return { id, method: method.toUpperCase(), url, headers: flat, body };
}

/**
 * A copy of a request body with every `clientState` (at any depth: $batch sub-requests) replaced by
 * '<redacted>'; the values are added to `seen`.
 */
function redactClientStates(value: unknown, seen: Set<string>): unknown {
	if (Array.isArray(value)) return value.map((entry) => redactClientStates(entry, seen));
	if (!isRecord(value)) return value;
	const out: Record<string, unknown> = {};
	for (const [key, entry] of Object.entries(value)) {
		if (key === 'clientState' && typeof entry === 'string') {
			seen.add(entry);
			out[key] = '<redacted>';
		} else {
			out[key] = redactClientStates(entry, seen);
		}
	}
	return out;
}

function parseJson(text: string): unknown {
	if (text === '') return undefined;
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

function readBody(req: IncomingMessage): Promise<Buffer> {
	return new Promise<Buffer>((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) {
				req.destroy();
				reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

function emptyStats(): EmulatorStats {
	return { total: 0, byStatus: {}, faults: {}, throttled: 0 };
}
