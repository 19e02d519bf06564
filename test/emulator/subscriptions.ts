import {
	X509Certificate,
	constants,
	createCipheriv,
	createHash,
	createHmac,
	generateKeyPairSync,
	publicEncrypt,
	randomBytes,
	randomUUID,
	sign,
	type KeyObject,
} from 'node:crypto';
import type { Presence } from './directory';
import {
	GRAPH_JSON,
	graphError,
	noContent,
	ok,
	type GraphRequest,
	type GraphResult,
} from './graph-http';
import type { TokenRecord } from './tokens';
import { isGuid, isRecord, type Rng } from './util';
import type { WebhookSender } from './webhooks';

/**
 * Change-notification subscriptions for presence (POST/GET/PATCH/DELETE /subscriptions) and the notifications
 * they produce. Each rule names the Microsoft page it comes from:
 * - PRESENCE = https://learn.microsoft.com/graph/changenotifications-for-presence (delegated Presence.Read.All
 *   only; at most 650 users and an hour a subscription; one presence subscription per user per application; the
 *   shapes of basic, rich and decrypted notifications);
 * - CREATE = https://learn.microsoft.com/graph/api/subscription-post-subscriptions (the validation handshake,
 *   clientState, encryptionCertificate for resource data);
 * - LIST = https://learn.microsoft.com/graph/api/subscription-list (what a delegated token sees; clientState is
 *   never returned);
 * - RICH = https://learn.microsoft.com/graph/change-notifications-with-resource-data (encryption, and the
 *   validation tokens: JWTs of the Microsoft identity platform, aud = the app, appid = Graph's change tracking);
 * - LIFECYCLE = https://learn.microsoft.com/graph/change-notifications-lifecycle-events.
 * Notifications are coalesced per notification URL; lifecycle events are sent on demand.
 */

export const MAX_SUBSCRIPTION_USERS = 650;
/** Graph's maximum lifetime of a presence subscription. */
export const MAX_SUBSCRIPTION_MINUTES = 60;
/** How far past the maximum an expirationDateTime may be, for clock skew between client and Graph. */
export const SUBSCRIPTION_EXPIRY_TOLERANCE_MS = 60_000;
export const MAX_CLIENT_STATE_LENGTH = 128;
export const DEFAULT_NOTIFICATION_BATCH_MS = 50;

/**
 * Notification POSTs sent a second time, the identical body, as if Graph had not seen the 2xx. Graph documents
 * resending only when it gets no 2xx within 3 s ("tries to resend the change notification multiple times, for up
 * to 4 hours": https://learn.microsoft.com/graph/change-notifications-delivery-webhooks, "Processing the change
 * notification"; webhooks.md: "it will retry the notification a number of times"). No page promises that a POST
 * answered in time is never sent again, nor that a retry cannot overlap what the receiver is still doing (an
 * answer lost on the way back, a 202 that arrived just after Graph's timeout): the emulator takes that harsher
 * assumption (README, "What Graph does not document, and what the node assumes").
 */
export interface RedeliveryConfig {
	/** The share of notification POSTs sent again, 0..1, drawn with the emulator's seed. */
	share: number;
	/** The second POST goes out uniformly 0..maxDelayMs after the first was sent. */
	maxDelayMs: number;
}

export function validateRedelivery(config: RedeliveryConfig): RedeliveryConfig {
	const { share, maxDelayMs } = config;
	if (!(Number.isFinite(share) && share >= 0 && share <= 1))
		throw new RangeError(`redelivery.share must be within 0..1, got ${share}`);
	if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= 0))
		throw new RangeError(`redelivery.maxDelayMs must be >= 0, got ${maxDelayMs}`);
	return { share, maxDelayMs };
}
export const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'] as const;
export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
	'reauthorizationRequired',
	'subscriptionRemoved',
	'missed',
];

/** Microsoft Graph Change Tracking's app id: the `appid` of the validation tokens in rich notifications (RICH). */
export const CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';
/** As PRESENCE's examples write it. */
const PRESENCE_ODATA_TYPE = '#microsoft.graph.presence';
/** How long a validation token lives: RICH's example token spans about 8 hours (iat to exp). */
const VALIDATION_TOKEN_LIFETIME_S = 8 * 3600;
/** How often live subscriptions make the emulator expire presence sessions on its own (reads do it lazily). */
const PRESENCE_SWEEP_MS = 1000;

/** The subscription as Graph returns it. */
export interface SubscriptionResource {
	id: string;
	resource: string;
	applicationId: string;
	changeType: string;
	clientState: string | null;
	notificationUrl: string;
	lifecycleNotificationUrl: string | null;
	expirationDateTime: string;
	creatorId: string;
	includeResourceData: boolean;
	latestSupportedTlsVersion: string;
	encryptionCertificateId: string | null;
}

/** What `emu.subscriptions` lists: the Graph view plus what a test may want to assert on. */
export interface EmulatedSubscription extends SubscriptionResource {
	tenantId: string;
	/** Lowercased, de-duplicated, in the order of the resource. */
	userIds: string[];
}

export interface EncryptedContent {
	data: string;
	dataSignature: string;
	dataKey: string;
	encryptionCertificateId: string;
	encryptionCertificateThumbprint: string;
}

export interface PresenceNotification {
	subscriptionId: string;
	clientState: string | null;
	changeType: 'updated';
	resource: string;
	resourceData: { '@odata.type': string; '@odata.id': string; id: string };
	/** Rich notifications (includeResourceData) only. */
	encryptedContent?: EncryptedContent;
	subscriptionExpirationDateTime: string;
	tenantId: string;
	organizationId: string;
}

export interface NotificationPayload {
	value: PresenceNotification[];
	/** When the POST carries a rich notification: one JWT-shaped token per application. */
	validationTokens?: string[];
}

export interface LifecycleNotification {
	subscriptionId: string;
	subscriptionExpirationDateTime: string;
	tenantId: string;
	clientState: string | null;
	lifecycleEvent: LifecycleEvent;
}

export interface LifecyclePayload {
	value: LifecycleNotification[];
}

export interface SubscriptionDeps {
	baseUrl: string;
	loginBaseUrl: string;
	/** The subscription clock (ms since epoch): real time plus `advanceClock`. */
	now: () => number;
	sender: WebhookSender;
	batchMs: () => number;
	/** At most this many notifications in one POST (Infinity: the batch window alone decides). */
	batchSize: () => number;
	redelivery: () => RedeliveryConfig | undefined;
	/** Draws which POSTs are redelivered and when. */
	redeliveryRng: Rng;
	/** The user's effective presence now; undefined for an id the directory does not have. */
	presence: (userId: string) => Presence | undefined;
	/** Drops the user's expired presence sessions now (which reports the change back if any). */
	expirePresence: (userId: string) => void;
}

interface StoredSubscription {
	id: string;
	resource: string;
	changeType: string;
	clientState: string | null;
	notificationUrl: string;
	lifecycleNotificationUrl: string | null;
	expiresAt: number;
	applicationId: string;
	creatorId: string;
	tenantId: string;
	includeResourceData: boolean;
	encryptionCertificateId: string | null;
	latestSupportedTlsVersion: string;
	userIds: string[];
	userIdSet: Set<string>;
	certificate: { publicKey: KeyObject; thumbprint: string } | undefined;
}

type Draft = Omit<StoredSubscription, 'id'>;

interface PendingBatch {
	entries: PresenceNotification[];
	/** applicationId|tenantId of rich entries, for their validation tokens. */
	richApps: Set<string>;
	timer: NodeJS.Timeout;
}

type Checked<T> = { ok: true; value: T } | { ok: false; result: GraphResult };

/** Ways a test can have the next validation token go wrong. */
export type ForgedToken =
	| 'signature'
	| 'unknownKey'
	| 'audience'
	| 'issuer'
	| 'expired'
	| 'publisher';

interface SigningKey {
	kid: string;
	privateKey: KeyObject;
	jwk: Record<string, unknown>;
}

function newSigningKey(): SigningKey {
	const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
	const jwk = publicKey.export({ format: 'jwk' }) as unknown as Record<string, unknown>;
	return { kid: randomBytes(20).toString('base64url'), privateKey, jwk };
}

function invalid(req: GraphRequest, message: string): Checked<never> {
	return { ok: false, result: graphError(req, 400, 'InvalidRequest', message) };
}

/** '/communications/presences/{id}' or "/communications/presences?$filter=id in ('a','b')": lowercased ids. */
export function parsePresenceResource(
	resource: string,
): { ok: true; ids: string[] } | { ok: false; message: string } {
	const usage = `Presence subscriptions take resource '/communications/presences/{id}' or "/communications/presences?$filter=id in ('{id1}','{id2}')", got '${resource}'.`;
	let raw: string[];
	const single = /^\/?communications\/presences\/([^/?'()]+)$/i.exec(resource);
	const filter = /^\/?communications\/presences\?\$filter=id\s+in\s+\((.*)\)\s*$/i.exec(resource);
	if (single !== null) {
		raw = [single[1]];
	} else if (filter !== null) {
		raw = [];
		for (const part of filter[1].split(',')) {
			const quoted = /^\s*'([^']*)'\s*$/.exec(part);
			if (quoted === null)
				return {
					ok: false,
					message: `Every id in the $filter must be quoted, e.g. id in ('{id1}','{id2}'): '${part.trim()}' is not. ${usage}`,
				};
			raw.push(quoted[1]);
		}
	} else {
		return { ok: false, message: usage };
	}
	if (raw.length > MAX_SUBSCRIPTION_USERS) {
		return {
			ok: false,
			message: `A presence subscription can include at most ${MAX_SUBSCRIPTION_USERS} users; the resource has ${raw.length}.`,
		};
	}
	const bad = raw.find((id) => !isGuid(id));
	if (bad !== undefined)
		return {
			ok: false,
			message: `'${bad}' is not a valid user id: presence subscriptions take Entra object ids (GUIDs).`,
		};
	return { ok: true, ids: [...new Set(raw.map((id) => id.toLowerCase()))] };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http to a loopback host (a test's receiver). */
export function isAllowedWebhookUrl(url: string): boolean {
	if (!URL.canParse(url)) return false;
	const parsed = new URL(url);
	if (parsed.protocol === 'https:') return true;
	return parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname.toLowerCase());
}

/**
 * Encrypts a resource as Graph does for rich notifications: AES-256-CBC (PKCS7 padding, IV = the first 16 bytes
 * of a random 32-byte key), the key wrapped with RSA-OAEP (SHA-1) for the subscription's certificate, and an
 * HMAC-SHA256 of the encrypted bytes keyed with the AES key. `tamper` corrupts the signature.
 */
export function encryptResource(
	resource: unknown,
	certificate: { publicKey: KeyObject; thumbprint: string },
	encryptionCertificateId: string,
	tamper = false,
): EncryptedContent {
	const key = randomBytes(32);
	const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
	const data = Buffer.concat([cipher.update(JSON.stringify(resource), 'utf8'), cipher.final()]);
	const signature = createHmac('sha256', key).update(data).digest();
	if (tamper) signature[0] ^= 0xff;
	const dataKey = publicEncrypt(
		{ key: certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
		key,
	);
	return {
		data: data.toString('base64'),
		dataSignature: signature.toString('base64'),
		dataKey: dataKey.toString('base64'),
		encryptionCertificateId,
		encryptionCertificateThumbprint: certificate.thumbprint,
	};
}

/** A notification's `resource` and its resourceData's `@odata.id`, as PRESENCE's examples show them. */
function notificationResource(userId: string): string {
	return `communications/presences/${userId}`;
}
function presenceODataId(userId: string): string {
	return `users/${userId}/presence`;
}

/**
 * How Graph echoes a presence subscription's resource in its answers. Microsoft documents nothing about it, so the
 * emulator takes the harsher plausible behaviour: not byte for byte as sent (no leading slash, ids in lower case,
 * one space after each comma), so that a client matching the string it sent finds nothing.
 */
function echoedResource(ids: readonly string[]): string {
	if (ids.length === 1) return `communications/presences/${ids[0]}`;
	return `communications/presences?$filter=id in (${ids.map((id) => `'${id}'`).join(', ')})`;
}

function parseExpiration(req: GraphRequest, value: unknown, now: number): Checked<number> {
	const at =
		typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
	if (Number.isNaN(at)) {
		return invalid(
			req,
			`'expirationDateTime' must be an ISO 8601 date and time, e.g. 2026-01-01T10:30:00Z, got ${JSON.stringify(value ?? null)}.`,
		);
	}
	if (at <= now) return invalid(req, 'Subscription expiration must be in the future.');
	if (at - now > MAX_SUBSCRIPTION_MINUTES * 60_000 + SUBSCRIPTION_EXPIRY_TOLERANCE_MS) {
		return invalid(
			req,
			`Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`,
		);
	}
	return { ok: true, value: at };
}

function parseCertificate(
	req: GraphRequest,
	value: unknown,
): Checked<{ publicKey: KeyObject; thumbprint: string }> {
	const text = typeof value === 'string' ? value.replace(/\s+/g, '') : '';
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
		return invalid(
			req,
			"'encryptionCertificate' must be the base64-encoded (DER) X.509 certificate whose public key encrypts the resource data.",
		);
	}
	let cert: X509Certificate;
	try {
		cert = new X509Certificate(Buffer.from(text, 'base64'));
	} catch {
		return invalid(
			req,
			"'encryptionCertificate' is not a valid base64-encoded (DER) X.509 certificate.",
		);
	}
	if (cert.publicKey.asymmetricKeyType !== 'rsa') {
		return invalid(
			req,
			`'encryptionCertificate' must have an RSA key (Graph wraps the data key with RSA-OAEP), not ${cert.publicKey.asymmetricKeyType ?? 'an unknown key type'}.`,
		);
	}
	return {
		ok: true,
		value: {
			publicKey: cert.publicKey,
			thumbprint: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
		},
	};
}

/** null when absent (or null), false when present but not a string. */
function optionalString(body: Record<string, unknown>, name: string): string | null | false {
	const value = body[name];
	if (value === undefined || value === null) return null;
	return typeof value === 'string' ? value : false;
}

export class SubscriptionService {
	private readonly store = new Map<string, StoredSubscription>();
	private readonly batches = new Map<string, PendingBatch>();
	private readonly changeQueue: string[] = [];
	private draining = false;
	private tamperNext = false;
	private sweepTimer: NodeJS.Timeout | undefined;
	private stopped = false;
	/** The identity platform's signing key for validation tokens (RICH: rotated; published as JWKS). */
	private signingKey = newSigningKey();
	/** Keys still published after a rotation, as the platform keeps the previous ones for a while. */
	private retiredKeys: SigningKey[] = [];
	private forgeNext: ForgedToken | undefined;

	constructor(private readonly deps: SubscriptionDeps) {}

	// ---- routes ----

	/** undefined when the path is not under /subscriptions; a Promise only for creation (the handshake). */
	route(req: GraphRequest, token: TokenRecord): GraphResult | Promise<GraphResult> | undefined {
		let segments: string[];
		try {
			segments = req.path
				.split('/')
				.filter((s) => s !== '')
				.map((s) => decodeURIComponent(s));
		} catch {
			return undefined;
		}
		if (segments[0]?.toLowerCase() !== 'subscriptions' || segments.length > 2) return undefined;
		const context = (fragment: string): string =>
			`${this.deps.baseUrl}/${req.version}/$metadata#${fragment}`;
		if (segments.length === 1) {
			if (req.method === 'GET') {
				// LIST: a delegated token sees this app's subscriptions for the signed-in user only; clientState is
				// never returned.
				const value = this.live()
					.filter((s) => this.owns(s, token))
					.map((s) => view(s));
				return ok({ '@odata.context': context('subscriptions'), value });
			}
			if (req.method === 'POST') return this.create(req, token, context('subscriptions/$entity'));
			return methodNotAllowed(req);
		}
		const id = segments[1];
		const sub = this.liveById(id);
		if (!['GET', 'PATCH', 'DELETE'].includes(req.method)) return methodNotAllowed(req);
		if (sub === undefined || !this.owns(sub, token)) {
			return graphError(
				req,
				404,
				'ResourceNotFound',
				`The subscription '${id}' was not found: it does not exist, expired, or was deleted.`,
			);
		}
		if (req.method === 'GET')
			return ok({ '@odata.context': context('subscriptions/$entity'), ...view(sub) });
		if (req.method === 'DELETE') {
			this.store.delete(sub.id);
			return noContent(204);
		}
		if (token.kind !== 'delegated') return appTokenRefused(req, 'Update');
		if (!isRecord(req.body))
			return graphError(
				req,
				400,
				'InvalidRequest',
				'Updating a subscription needs a JSON object with expirationDateTime.',
			);
		const expiry = parseExpiration(req, req.body.expirationDateTime, this.deps.now());
		if (!expiry.ok) return expiry.result;
		sub.expiresAt = expiry.value;
		return ok({ '@odata.context': context('subscriptions/$entity'), ...view(sub) });
	}

	private async create(
		req: GraphRequest,
		token: TokenRecord,
		contextUrl: string,
	): Promise<GraphResult> {
		const draft = this.checkCreate(req, token);
		if (!draft.ok) return draft.result;
		const early = this.conflicting(draft.value, req);
		if (early !== undefined) return early;
		const id = randomUUID();
		for (const url of [draft.value.notificationUrl, draft.value.lifecycleNotificationUrl]) {
			if (url === null) continue;
			const outcome = await this.deps.sender.validate(url, id);
			if (!outcome.ok) return graphError(req, 400, 'ValidationError', outcome.message);
		}
		// The handshake takes a while: another creation for the same user and app may have won meanwhile.
		const conflict = this.conflicting(draft.value, req);
		if (conflict !== undefined) return conflict;
		const sub: StoredSubscription = { id, ...draft.value };
		this.store.set(id, sub);
		this.ensureSweep();
		// CREATE's example answers with the clientState it was given; later reads never show it (LIST).
		return {
			status: 201,
			headers: { 'Content-Type': GRAPH_JSON },
			body: { '@odata.context': contextUrl, ...view(sub), clientState: sub.clientState },
		};
	}

	private checkCreate(req: GraphRequest, token: TokenRecord): Checked<Draft> {
		const body = req.body;
		if (!isRecord(body))
			return invalid(req, 'Creating a subscription needs a JSON object as its request body.');
		const { resource, changeType, notificationUrl, includeResourceData } = body;
		if (typeof resource !== 'string')
			return invalid(req, "'resource' is required, e.g. '/communications/presences/{id}'.");
		const parsed = parsePresenceResource(resource);
		if (!parsed.ok) return invalid(req, parsed.message);
		if (token.kind !== 'delegated' || token.userId === undefined)
			return { ok: false, result: appTokenRefused(req, 'Create') };
		if (changeType !== 'updated')
			return invalid(
				req,
				`Presence subscriptions support changeType 'updated' only, got ${JSON.stringify(changeType ?? null)}.`,
			);
		const expiry = parseExpiration(req, body.expirationDateTime, this.deps.now());
		if (!expiry.ok) return expiry;

		const clientState = optionalString(body, 'clientState');
		if (clientState === false) return invalid(req, "'clientState' must be a string.");
		if (clientState !== null && clientState.length > MAX_CLIENT_STATE_LENGTH) {
			return invalid(
				req,
				`'clientState' can be at most ${MAX_CLIENT_STATE_LENGTH} characters, got ${clientState.length}.`,
			);
		}
		if (typeof notificationUrl !== 'string' || !isAllowedWebhookUrl(notificationUrl)) {
			return invalid(
				req,
				`'notificationUrl' must be an https URL (the emulator also allows http to 127.0.0.1, localhost and [::1]), got ${JSON.stringify(notificationUrl ?? null)}.`,
			);
		}
		const lifecycleUrl = optionalString(body, 'lifecycleNotificationUrl');
		if (
			lifecycleUrl === false ||
			(typeof lifecycleUrl === 'string' && !isAllowedWebhookUrl(lifecycleUrl))
		) {
			return invalid(
				req,
				`'lifecycleNotificationUrl' must be an https URL (the emulator also allows http to 127.0.0.1, localhost and [::1]), got ${JSON.stringify(body.lifecycleNotificationUrl)}.`,
			);
		}
		const tls = optionalString(body, 'latestSupportedTlsVersion');
		const tlsVersion =
			tls === null ? 'v1_2' : tls === false ? undefined : TLS_VERSIONS.find((v) => v === tls);
		if (tlsVersion === undefined) {
			return invalid(
				req,
				`'latestSupportedTlsVersion' must be one of ${TLS_VERSIONS.join(', ')}, got ${JSON.stringify(body.latestSupportedTlsVersion)}.`,
			);
		}

		if (
			includeResourceData !== undefined &&
			includeResourceData !== null &&
			typeof includeResourceData !== 'boolean'
		) {
			return invalid(
				req,
				`'includeResourceData' must be true or false, got ${JSON.stringify(includeResourceData)}.`,
			);
		}
		const rich = includeResourceData === true;
		const certificateId = optionalString(body, 'encryptionCertificateId');
		if (certificateId === false) return invalid(req, "'encryptionCertificateId' must be a string.");
		// CREATE, for presence: "Always specify the encryptionCertificate parameter ... to avoid failure".
		// Basic subscriptions without one are reported to work; the emulator takes the page at its word
		// and refuses them, the harsher reading.
		if (body.encryptionCertificate === undefined || body.encryptionCertificate === null) {
			return invalid(
				req,
				`Presence subscriptions need 'encryptionCertificate' (base64 DER X.509)${rich ? ' to encrypt the resource data' : ', even without includeResourceData'}.`,
			);
		}
		if (certificateId === null || certificateId === '') {
			return invalid(
				req,
				"A subscription with an encryptionCertificate needs 'encryptionCertificateId', which identifies the certificate in notifications.",
			);
		}
		const parsedCert = parseCertificate(req, body.encryptionCertificate);
		if (!parsedCert.ok) return parsedCert;
		const certificate: StoredSubscription['certificate'] = parsedCert.value;
		return {
			ok: true,
			value: {
				resource,
				changeType,
				clientState,
				notificationUrl,
				lifecycleNotificationUrl: lifecycleUrl,
				expiresAt: expiry.value,
				applicationId: token.clientId,
				creatorId: token.userId,
				tenantId: token.tenantId,
				includeResourceData: rich,
				encryptionCertificateId: certificateId,
				latestSupportedTlsVersion: tlsVersion,
				userIds: parsed.ids,
				userIdSet: new Set(parsed.ids),
				certificate,
			},
		};
	}

	/**
	 * PRESENCE: "A single user can create one presence subscription per unique application". The page names no
	 * status for a second one; developers report 409 Conflict, which the emulator answers (with Graph's wrapping of
	 * presence-provider errors), whatever users the second one covers.
	 */
	private conflicting(draft: Draft, req: GraphRequest): GraphResult | undefined {
		const held = this.live().find(
			(sub) =>
				sub.applicationId.toLowerCase() === draft.applicationId.toLowerCase() &&
				sub.creatorId.toLowerCase() === draft.creatorId.toLowerCase(),
		);
		if (held === undefined) return undefined;
		return graphError(
			req,
			409,
			'ExtensionError',
			'Operation: Create; Exception: [Status Code: Conflict; Reason: A presence subscription already exists for this user and application.]',
		);
	}

	// ---- what the emulator's API exposes ----

	get subscriptions(): EmulatedSubscription[] {
		return this.live().map((s) => ({
			...view(s),
			// For tests' assertions (Graph itself never shows it).
			clientState: s.clientState,
			tenantId: s.tenantId,
			userIds: [...s.userIds],
		}));
	}

	/** The subscription expires `msLeft` from now, as if it had lived that long without a renewal; true when live. */
	expireIn(id: string, msLeft: number): boolean {
		const sub = this.liveById(id);
		if (sub === undefined) return false;
		sub.expiresAt = this.deps.now() + msLeft;
		return true;
	}

	/** Graph forgets the subscription without telling anyone; true when it was live. */
	drop(id: string): boolean {
		const sub = this.liveById(id);
		if (sub === undefined) return false;
		this.store.delete(sub.id);
		return true;
	}

	tamperNextSignature(): void {
		this.tamperNext = true;
	}

	/** POSTs the event to the lifecycle URL (else the notification URL); subscriptionRemoved deletes it first. */
	sendLifecycleEvent(id: string, event: LifecycleEvent): Promise<boolean> {
		if (!LIFECYCLE_EVENTS.includes(event))
			throw new RangeError(`sendLifecycleEvent: unknown lifecycle event '${String(event)}'`);
		const sub = this.liveById(id);
		if (sub === undefined) throw new Error(`sendLifecycleEvent: no live subscription '${id}'`);
		if (event === 'subscriptionRemoved') this.store.delete(sub.id);
		const payload: LifecyclePayload = {
			value: [
				{
					subscriptionId: sub.id,
					subscriptionExpirationDateTime: new Date(sub.expiresAt).toISOString(),
					tenantId: sub.tenantId,
					clientState: sub.clientState,
					lifecycleEvent: event,
				},
			],
		};
		return this.deps.sender.deliver(
			'lifecycle',
			sub.lifecycleNotificationUrl ?? sub.notificationUrl,
			sub.id,
			payload,
		);
	}

	/** True while notifications wait in a batch window. */
	get pending(): boolean {
		return this.batches.size > 0;
	}

	/** After a clock moved: forget expired subscriptions and expire presence sessions of covered users now. */
	sweep(): void {
		this.purgeExpired();
		if (this.store.size === 0) {
			if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
			this.sweepTimer = undefined;
			return;
		}
		const covered = new Set<string>();
		for (const sub of this.store.values()) for (const id of sub.userIds) covered.add(id);
		for (const id of covered) this.deps.expirePresence(id);
	}

	/** Pending batches are dropped; in-flight deliveries are the sender's to abort. */
	stop(): void {
		this.stopped = true;
		if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
		this.sweepTimer = undefined;
		for (const batch of this.batches.values()) clearTimeout(batch.timer);
		this.batches.clear();
	}

	// ---- notifications ----

	/**
	 * Called synchronously whenever a user's sequenceNumber advances. Reading the presence for a rich notification
	 * can itself expire a session and report another change; those are queued, not recursed into.
	 */
	presenceChanged(userId: string): void {
		if (this.store.size === 0 || this.stopped) return;
		this.changeQueue.push(userId);
		if (this.draining) return;
		this.draining = true;
		try {
			for (let next = this.changeQueue.shift(); next !== undefined; next = this.changeQueue.shift())
				this.notify(next);
		} finally {
			this.draining = false;
		}
	}

	private notify(userId: string): void {
		const key = userId.toLowerCase();
		const now = this.deps.now();
		let presence: Presence | undefined;
		for (const sub of this.store.values()) {
			if (sub.expiresAt <= now || !sub.userIdSet.has(key)) continue;
			const entry: PresenceNotification = {
				subscriptionId: sub.id,
				clientState: sub.clientState,
				changeType: 'updated',
				resource: notificationResource(userId),
				resourceData: {
					'@odata.id': presenceODataId(userId),
					'@odata.type': PRESENCE_ODATA_TYPE,
					id: userId,
				},
				subscriptionExpirationDateTime: new Date(sub.expiresAt).toISOString(),
				tenantId: sub.tenantId,
				organizationId: sub.tenantId,
			};
			if (
				sub.includeResourceData &&
				sub.certificate !== undefined &&
				sub.encryptionCertificateId !== null
			) {
				presence ??= this.deps.presence(userId);
				if (presence !== undefined) {
					// PRESENCE, "Decrypted notifications with resource data": these five properties and nothing else
					// (no sequenceNumber, status message, out of office or work location).
					const resource = {
						'@odata.id': presenceODataId(userId),
						'@odata.type': PRESENCE_ODATA_TYPE,
						id: userId,
						availability: presence.availability,
						activity: presence.activity,
					};
					entry.encryptedContent = encryptResource(
						resource,
						sub.certificate,
						sub.encryptionCertificateId,
						this.tamperNext,
					);
					this.tamperNext = false;
				}
			}
			this.enqueue(sub, entry);
		}
	}

	private enqueue(sub: StoredSubscription, entry: PresenceNotification): void {
		const url = sub.notificationUrl;
		let batch = this.batches.get(url);
		if (batch === undefined) {
			const timer = setTimeout(() => this.flush(url), this.deps.batchMs());
			batch = { entries: [], richApps: new Set(), timer };
			this.batches.set(url, batch);
		}
		batch.entries.push(entry);
		if (entry.encryptedContent !== undefined)
			batch.richApps.add(`${sub.applicationId}|${sub.tenantId}`);
		// Graph gives no size for a POST's `value` ("Microsoft Graph may send multiple notifications ... in the same
		// POST request": https://learn.microsoft.com/graph/change-notifications-delivery-webhooks): the node takes
		// any number; a test may cap it, so that one burst of changes arrives as several POSTs.
		if (batch.entries.length >= this.deps.batchSize()) {
			clearTimeout(batch.timer);
			this.flush(url);
		}
	}

	private flush(url: string): void {
		const batch = this.batches.get(url);
		if (batch === undefined) return;
		this.batches.delete(url);
		const payload: NotificationPayload = { value: batch.entries };
		if (batch.richApps.size > 0) {
			payload.validationTokens = [...batch.richApps].map((app) => {
				const [applicationId, tenantId] = app.split('|');
				return this.validationToken(applicationId, tenantId);
			});
		}
		const subscriptionId = batch.entries[0].subscriptionId;
		void this.deps.sender.deliver('notification', url, subscriptionId, payload);
		const redelivery = this.deps.redelivery();
		if (redelivery !== undefined && this.deps.redeliveryRng() < redelivery.share) {
			const delayMs = Math.round(this.deps.redeliveryRng() * redelivery.maxDelayMs);
			void this.deps.sender.redeliver(url, subscriptionId, payload, delayMs);
		}
	}

	/**
	 * A validation token as RICH describes it: a JWT of the Microsoft identity platform (v1 claims as in its example:
	 * aud = the subscribing app, iss = https://sts.windows.net/{tenant}/, appid = Graph's change tracking), signed
	 * RS256 with a key published at the login host's discovery/v2.0/keys. `forgeNextValidationToken` breaks one.
	 */
	private validationToken(applicationId: string, tenantId: string): string {
		const forged = this.forgeNext;
		this.forgeNext = undefined;
		const iat = Math.floor(this.deps.now() / 1000);
		const issuer = `https://sts.windows.net/${tenantId}/`;
		const signer = forged === 'unknownKey' ? newSigningKey() : this.signingKey;
		const header = { typ: 'JWT', alg: 'RS256', x5t: signer.kid, kid: signer.kid };
		const payload = {
			aud: forged === 'audience' ? randomUUID() : applicationId,
			iss:
				forged === 'issuer'
					? 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/'
					: issuer,
			iat: forged === 'expired' ? iat - 2 * VALIDATION_TOKEN_LIFETIME_S : iat,
			nbf: forged === 'expired' ? iat - 2 * VALIDATION_TOKEN_LIFETIME_S : iat,
			exp:
				forged === 'expired'
					? iat - VALIDATION_TOKEN_LIFETIME_S
					: iat + VALIDATION_TOKEN_LIFETIME_S,
			appid: forged === 'publisher' ? randomUUID() : CHANGE_TRACKING_APP_ID,
			appidacr: '2',
			idp: issuer,
			tid: tenantId,
			uti: randomBytes(16).toString('base64url'),
			ver: '1.0',
		};
		const part = (value: unknown): string =>
			Buffer.from(JSON.stringify(value)).toString('base64url');
		const signed = `${part(header)}.${part(payload)}`;
		const signature = sign('RSA-SHA256', Buffer.from(signed), signer.privateKey);
		if (forged === 'signature') signature[0] ^= 0xff;
		return `${signed}.${signature.toString('base64url')}`;
	}

	/** The published signing keys (JWKS), current first, for `{login}/{tenant|common}/discovery/v2.0/keys`. */
	signingKeys(): { keys: Array<Record<string, unknown>> } {
		return {
			keys: [this.signingKey, ...this.retiredKeys].map((key) => ({
				...key.jwk,
				kid: key.kid,
				x5t: key.kid,
				use: 'sig',
				kty: 'RSA',
			})),
		};
	}

	/** A new signing key signs from now on; the old one stays published (RICH: keys rotate daily). */
	rotateSigningKey(): void {
		this.retiredKeys = [this.signingKey, ...this.retiredKeys].slice(0, 2);
		this.signingKey = newSigningKey();
	}

	/** A genuine validation token for the app and tenant, for tests that deliver notifications themselves. */
	issueValidationToken(applicationId: string, tenantId: string): string {
		return this.validationToken(applicationId, tenantId);
	}

	/** The next validation token is forged in the given way (for tests of the receiver's checks). */
	forgeNextValidationToken(kind: ForgedToken): void {
		this.forgeNext = kind;
	}

	// ---- store ----

	private live(): StoredSubscription[] {
		this.purgeExpired();
		return [...this.store.values()];
	}

	private liveById(id: string): StoredSubscription | undefined {
		const sub = this.store.get(id.toLowerCase());
		if (sub === undefined) return undefined;
		if (sub.expiresAt <= this.deps.now()) {
			this.store.delete(sub.id);
			return undefined;
		}
		return sub;
	}

	private purgeExpired(): void {
		const now = this.deps.now();
		for (const [id, sub] of this.store) if (sub.expiresAt <= now) this.store.delete(id);
	}

	/** LIST: delegated, this app's subscriptions for the signed-in user; application, this app's for anyone. */
	private owns(sub: StoredSubscription, token: TokenRecord): boolean {
		const sameApp =
			sub.applicationId.toLowerCase() === token.clientId.toLowerCase() &&
			sub.tenantId.toLowerCase() === token.tenantId.toLowerCase();
		if (!sameApp) return false;
		if (token.kind !== 'delegated') return true;
		return token.userId !== undefined && sub.creatorId.toLowerCase() === token.userId.toLowerCase();
	}

	private ensureSweep(): void {
		// A handshake that finished while the emulator stopped must not start a timer again.
		if (this.sweepTimer !== undefined || this.stopped) return;
		this.sweepTimer = setInterval(() => this.sweep(), PRESENCE_SWEEP_MS);
		// Never the reason a process stays up; stop() clears it anyway.
		this.sweepTimer.unref();
	}
}

/** The subscription as Graph answers with it: clientState never shown (LIST), the resource as Graph echoes it. */
function view(sub: StoredSubscription): SubscriptionResource {
	return {
		id: sub.id,
		resource: echoedResource(sub.userIds),
		applicationId: sub.applicationId,
		changeType: sub.changeType,
		clientState: null,
		notificationUrl: sub.notificationUrl,
		lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
		expirationDateTime: new Date(sub.expiresAt).toISOString(),
		creatorId: sub.creatorId,
		includeResourceData: sub.includeResourceData,
		latestSupportedTlsVersion: sub.latestSupportedTlsVersion,
		encryptionCertificateId: sub.encryptionCertificateId,
	};
}

function methodNotAllowed(req: GraphRequest): GraphResult {
	return graphError(
		req,
		405,
		'Request_BadRequest',
		`Specified HTTP method '${req.method}' is not allowed for the request target.`,
	);
}

/** Graph wraps errors of the presence subscription provider this way ("ExtensionError"). */
function appTokenRefused(req: GraphRequest, operation: 'Create' | 'Update'): GraphResult {
	return graphError(
		req,
		403,
		'ExtensionError',
		`Operation: ${operation}; Exception: [Status Code: Forbidden; Reason: Application permissions are not supported for presence subscriptions. Subscribe with a delegated token (Presence.Read.All).]`,
	);
}
