import {
	createDecipheriv,
	createHmac,
	privateDecrypt,
	randomBytes,
	timingSafeEqual,
	constants,
} from 'crypto';

import { chunk } from '../presence/batching';
import { isGuid } from '../users/ids';
import { isRecord } from '../guards';

/**
 * Graph change notifications for presence: what a subscription covers, when it must be renewed,
 * what a notification says, and how rich notifications are decrypted. No n8n here: pure rules,
 * unit-tested.
 */

export const MAX_IDS_PER_SUBSCRIPTION = 650;
/**
 * Graph allows presence subscriptions at most 60 minutes ahead; a little less leaves room for clock
 * skew.
 */
export const SUBSCRIPTION_LIFETIME_MS = 55 * 60_000;
/** Renewal runs every few minutes and renews anything with less than this left. */
export const RENEW_WHEN_LEFT_MS = 20 * 60_000;

export function presenceResource(ids: readonly string[]): string {
	if (ids.length === 1) return `/communications/presences/${ids[0]}`;
	return `/communications/presences?$filter=id in (${ids.map((id) => `'${id}'`).join(',')})`;
}

/**
 * The subscriptions a set of users needs: sorted ids, 650 per subscription, so the plan is stable.
 */
export function plannedResources(ids: readonly string[]): string[] {
	return chunk(
		[...new Set(ids.map((id) => id.toLowerCase()))].sort(),
		MAX_IDS_PER_SUBSCRIPTION,
	).map(presenceResource);
}

/** Compares resources as Graph may echo them (with or without a leading slash, any case). */
export function sameResource(a: string, b: string): boolean {
	const norm = (resource: string) =>
		resource.trim().replace(/^\//, '').toLowerCase().replace(/\s+/g, ' ');
	return norm(a) === norm(b);
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
		message: `Microsoft Graph delivers notifications only to HTTPS URLs, and this n8n's webhook URL is ${url}. Set WEBHOOK_URL to the public https:// address of this n8n (for example behind a reverse proxy).`,
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
}

export interface Notification {
	subscriptionId: string;
	clientState: unknown;
	/** Lifecycle notifications: reauthorizationRequired, subscriptionRemoved, missed. */
	lifecycleEvent?: string;
	/** The user whose presence changed (change notifications). */
	userId?: string;
	encryptedContent?: EncryptedContent;
}

function isEncrypted(value: unknown): value is EncryptedContent {
	return (
		isRecord(value) &&
		typeof value.data === 'string' &&
		typeof value.dataSignature === 'string' &&
		typeof value.dataKey === 'string'
	);
}

/**
 * The id of the user a notification is about: resourceData.id, or the id inside
 * `communications/presences('…')`.
 */
function userIdOf(entry: Record<string, unknown>): string | undefined {
	if (
		isRecord(entry.resourceData) &&
		typeof entry.resourceData.id === 'string' &&
		isGuid(entry.resourceData.id)
	) {
		return entry.resourceData.id.toLowerCase();
	}
	const match =
		typeof entry.resource === 'string'
			? /presences\('?([0-9a-f-]{36})'?\)|users\/([0-9a-f-]{36})\/presence/i.exec(entry.resource)
			: null;
	const id = match?.[1] ?? match?.[2];
	return id && isGuid(id) ? id.toLowerCase() : undefined;
}

/** Reads a notification POST: `{ value: [ … ] }`; entries without a subscription id are dropped. */
export function readNotifications(body: unknown): Notification[] | undefined {
	if (!isRecord(body) || !Array.isArray(body.value)) return undefined;
	return body.value.filter(isRecord).flatMap((entry): Notification[] => {
		if (typeof entry.subscriptionId !== 'string') return [];
		return [
			{
				subscriptionId: entry.subscriptionId,
				clientState: entry.clientState,
				lifecycleEvent: typeof entry.lifecycleEvent === 'string' ? entry.lifecycleEvent : undefined,
				userId: userIdOf(entry),
				encryptedContent: isEncrypted(entry.encryptedContent) ? entry.encryptedContent : undefined,
			},
		];
	});
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
