import {
	createDecipheriv,
	createHmac,
	privateDecrypt,
	randomBytes,
	timingSafeEqual,
	constants,
} from 'crypto';

import { isGuid } from '../users/ids';
import { isRecord } from '../guards';
import type { AvailabilityContent } from '../presence/presenceDiff';

/**
 * Graph change notifications for presence: what a subscription covers, when it must be renewed,
 * what a notification says, and how rich notifications are decrypted. No n8n here: pure rules,
 * unit-tested.
 */

/** One subscription covers at most 650 users (changenotifications-for-presence). */
export const MAX_IDS_PER_SUBSCRIPTION = 650;
/**
 * Graph allows presence subscriptions at most 60 minutes ahead; a little less leaves room for clock
 * skew.
 */
export const SUBSCRIPTION_LIFETIME_MS = 55 * 60_000;
/** The schedule runs every minute and renews a subscription with less than this left. */
export const RENEW_WHEN_LEFT_MS = 20 * 60_000;

export function presenceResource(ids: readonly string[]): string {
	if (ids.length === 1) return `/communications/presences/${ids[0]}`;
	return `/communications/presences?$filter=id in (${ids.map((id) => `'${id}'`).join(',')})`;
}

/**
 * Graph gives a signed-in user one presence subscription per application (changenotifications-for-
 * presence), and one subscription covers 650 users: the first 650 watched users (in the order they
 * are listed) are instant, everyone after them is polled.
 */
export function splitWatched(ids: Iterable<string>): { instant: string[]; polled: string[] } {
	const all = [...ids];
	return {
		instant: all.slice(0, MAX_IDS_PER_SUBSCRIPTION),
		polled: all.slice(MAX_IDS_PER_SUBSCRIPTION),
	};
}

/** A presence subscription's resource, in whatever form Graph echoes it (with or without a slash). */
export function isPresenceResource(resource: string): boolean {
	return /^\/?communications\/presences\b/i.test(resource.trim());
}

/**
 * The users a presence resource covers (lower case), read from the form Graph echoes: Microsoft does
 * not promise it comes back byte for byte as sent, so spaces, quotes, case and a leading slash may
 * differ. Undefined for anything that is not a presence resource.
 */
export function resourceUsers(resource: string): Set<string> | undefined {
	const text = resource.trim();
	const single = /^\/?communications\/presences\/'?([0-9a-f-]{36})'?$/i.exec(text);
	if (single) return new Set([single[1].toLowerCase()]);
	const filter = /^\/?communications\/presences\?\$filter=id\s+in\s*\((.*)\)\s*$/i.exec(text);
	if (!filter) return undefined;
	const ids = filter[1].split(',').map((part) => part.trim().replace(/^'|'$/g, '').toLowerCase());
	return ids.every(isGuid) ? new Set(ids) : undefined;
}

/** True when the resource covers exactly these users. */
export function coversExactly(resource: string, ids: readonly string[]): boolean {
	const covered = resourceUsers(resource);
	const wanted = new Set(ids.map((id) => id.toLowerCase()));
	return (
		covered !== undefined &&
		covered.size === wanted.size &&
		[...wanted].every((id) => covered.has(id))
	);
}

export function expiryFrom(now: number): string {
	return new Date(now + SUBSCRIPTION_LIFETIME_MS).toISOString();
}

export function needsRenewal(expirationDateTime: unknown, now: number): boolean {
	const expires = typeof expirationDateTime === 'string' ? Date.parse(expirationDateTime) : NaN;
	return Number.isNaN(expires) || expires - now < RENEW_WHEN_LEFT_MS;
}

/**
 * Graph delivers only to HTTPS; plain http is accepted for loopback addresses (tests, the demo).
 */
export function checkNotificationUrl(
	url: string | undefined,
): { ok: true } | { ok: false; message: string } {
	if (!url) return { ok: false, message: 'n8n gave this node no webhook URL' };
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return { ok: false, message: `"${url}" is not a URL` };
	}
	if (parsed.protocol === 'https:') return { ok: true };
	const loopback =
		['127.0.0.1', 'localhost', '[::1]', '::1'].includes(parsed.hostname) ||
		parsed.hostname.startsWith('127.');
	if (parsed.protocol === 'http:' && loopback) return { ok: true };
	return {
		ok: false,
		message: `Microsoft Graph delivers notifications only to HTTPS URLs, and this n8n's webhook URL is ${url}. Set N8N_WEBHOOK_URL (n8n 2.35 and later; WEBHOOK_URL before) to the public https:// address of this n8n, for example behind a reverse proxy.`,
	};
}

export function newClientState(): string {
	return randomBytes(48).toString('base64url');
}

/** Constant-time comparison, so the secret cannot be guessed byte by byte from response times. */
export function sameSecret(expected: string, given: unknown): boolean {
	if (typeof given !== 'string') return false;
	const a = Buffer.from(expected);
	const b = Buffer.from(given);
	return a.length === b.length && timingSafeEqual(a, b);
}

export interface EncryptedContent {
	data: string;
	dataSignature: string;
	dataKey: string;
	/** Which of our certificates encrypted it: the id we gave when subscribing. */
	encryptionCertificateId?: string;
}

export interface Notification {
	subscriptionId: string;
	clientState: unknown;
	/** The tenant the notification comes from: its validation token must be issued by that tenant. */
	tenantId?: string;
	/** Lifecycle notifications: reauthorizationRequired, subscriptionRemoved, missed. */
	lifecycleEvent?: string;
	/** The user whose presence changed (change notifications). */
	userId?: string;
	encryptedContent?: EncryptedContent;
}

/** A notification POST: its notifications, and the validation tokens that come with rich ones. */
export interface Delivery {
	notifications: Notification[];
	validationTokens: string[];
}

function isEncrypted(value: unknown): value is EncryptedContent {
	return (
		isRecord(value) &&
		typeof value.data === 'string' &&
		typeof value.dataSignature === 'string' &&
		typeof value.dataKey === 'string' &&
		(value.encryptionCertificateId === undefined ||
			typeof value.encryptionCertificateId === 'string')
	);
}

const text = (value: unknown): string | undefined =>
	typeof value === 'string' ? value : undefined;

/**
 * The id of the user a notification is about: resourceData.id, else the id in its resource
 * (`communications/presences/{id}`, documented) or its `@odata.id` (`users/{id}/presence`).
 */
function userIdOf(entry: Record<string, unknown>): string | undefined {
	const data = isRecord(entry.resourceData) ? entry.resourceData : {};
	if (typeof data.id === 'string' && isGuid(data.id)) return data.id.toLowerCase();
	for (const place of [entry.resource, data['@odata.id']]) {
		const match =
			typeof place === 'string'
				? /presences(?:\/|\(')([0-9a-f-]{36})|users\/([0-9a-f-]{36})\/presence/i.exec(place)
				: null;
		const id = match?.[1] ?? match?.[2];
		if (id && isGuid(id)) return id.toLowerCase();
	}
	return undefined;
}

/** Reads a notification POST: `{ value: [ … ], validationTokens? }`; entries without a subscription id are dropped. */
export function readDelivery(body: unknown): Delivery | undefined {
	if (!isRecord(body) || !Array.isArray(body.value)) return undefined;
	const notifications = body.value.filter(isRecord).flatMap((entry): Notification[] => {
		if (typeof entry.subscriptionId !== 'string') return [];
		return [
			{
				subscriptionId: entry.subscriptionId,
				clientState: entry.clientState,
				tenantId: text(entry.tenantId),
				lifecycleEvent: text(entry.lifecycleEvent),
				userId: userIdOf(entry),
				encryptedContent: isEncrypted(entry.encryptedContent) ? entry.encryptedContent : undefined,
			},
		];
	});
	const tokens = Array.isArray(body.validationTokens) ? body.validationTokens : [];
	return { notifications, validationTokens: tokens.filter((token) => typeof token === 'string') };
}

/** What a rich notification holds once decrypted: per the page, id, availability and activity only. */
export type PresenceContent = AvailabilityContent;

export function isPresenceContent(value: unknown): value is PresenceContent {
	return (
		isRecord(value) &&
		typeof value.id === 'string' &&
		typeof value.availability === 'string' &&
		typeof value.activity === 'string'
	);
}

/**
 * Decrypts a rich notification as Microsoft documents it: the AES key is RSA-OAEP-encrypted with
 * our certificate, the data is AES-256-CBC with the key's first 16 bytes as IV, and an HMAC-SHA256
 * of the data with the same key must match, or the content is refused.
 */
export function decryptContent(content: EncryptedContent, privateKeyPem: string): unknown {
	const key = privateDecrypt(
		{ key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
		Buffer.from(content.dataKey, 'base64'),
	);
	const data = Buffer.from(content.data, 'base64');
	const signature = createHmac('sha256', key).update(data).digest();
	const given = Buffer.from(content.dataSignature, 'base64');
	if (given.length !== signature.length || !timingSafeEqual(given, signature)) {
		throw new Error("The notification's signature does not match its content");
	}
	const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
	return JSON.parse(
		Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8'),
	) as unknown;
}
