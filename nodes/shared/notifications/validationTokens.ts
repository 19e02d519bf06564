import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'crypto';

import { isRecord } from '../guards';

/**
 * The validation tokens of rich notifications, checked as Microsoft asks
 * (https://learn.microsoft.com/graph/change-notifications-with-resource-data, "How to validate"): a
 * JWT of the Microsoft identity platform, signed with one of its published keys, not expired, issued
 * for our app (`aud`) by the notification's tenant (`iss`), on behalf of Microsoft Graph's change
 * tracking (`appid`, `azp` in v2 tokens). The encrypted content's HMAC only proves integrity: anyone
 * holding our public certificate can make one, so these tokens are what proves the sender. Pure: the
 * keys and the clock are handed in.
 */

/** Microsoft Graph Change Tracking, the publisher of change notifications. */
export const CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';
/** Tolerance for clocks that differ between Microsoft and this n8n. */
const CLOCK_SKEW_S = 300;

/** Published signing keys by key id (from `{login}/common/discovery/v2.0/keys`). */
export type SigningKeys = ReadonlyMap<string, KeyObject>;

/** Reads a JWKS document into keys by id; entries that are not RSA signing keys are skipped. */
export function readSigningKeys(body: unknown): Map<string, KeyObject> {
	const keys = new Map<string, KeyObject>();
	if (!isRecord(body) || !Array.isArray(body.keys)) return keys;
	for (const entry of body.keys) {
		if (!isRecord(entry) || entry.kty !== 'RSA' || typeof entry.n !== 'string') continue;
		if (typeof entry.e !== 'string' || (entry.use !== undefined && entry.use !== 'sig')) continue;
		const kid = typeof entry.kid === 'string' ? entry.kid : undefined;
		if (!kid) continue;
		try {
			const jwk: JsonWebKey = { kty: 'RSA', n: entry.n, e: entry.e };
			keys.set(kid, createPublicKey({ key: jwk, format: 'jwk' }));
		} catch {
			// A key this Node cannot read cannot have signed anything we accept.
		}
	}
	return keys;
}

export interface TokenExpectations {
	/** Our app's client id: the token's audience. */
	clientId: string;
	/** Tenants named by the delivery's notifications: the token must come from one of them. */
	tenantIds: ReadonlySet<string>;
	/** The cloud's login host, for issuers of national clouds (`{login}/{tenant}/`). */
	loginBaseUrl: string;
	/** Seconds since the epoch. */
	now: number;
}

export type TokenVerdict =
	| { ok: true }
	| {
			ok: false;
			reason: string;
			/** The key may have rotated: fetch the keys again, once. */ unknownKey?: true;
	  };

function part(segment: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
		return isRecord(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

/** The issuers Microsoft's tokens use for a tenant: sts.windows.net (v1), and the login host's. */
function issuers(tenantId: string, loginBaseUrl: string): string[] {
	const tenant = tenantId.toLowerCase();
	return [
		`https://sts.windows.net/${tenant}/`,
		`${loginBaseUrl}/${tenant}/`,
		`${loginBaseUrl}/${tenant}/v2.0`,
	];
}

export function checkValidationToken(
	token: string,
	keys: SigningKeys,
	expected: TokenExpectations,
): TokenVerdict {
	const segments = token.split('.');
	if (segments.length !== 3) return { ok: false, reason: 'not a JWT' };
	const header = part(segments[0]);
	const claims = part(segments[1]);
	if (!header || !claims) return { ok: false, reason: 'unreadable JWT' };
	if (header.alg !== 'RS256')
		return { ok: false, reason: `signed with ${String(header.alg)}, not RS256` };
	const kid = typeof header.kid === 'string' ? header.kid : undefined;
	const key = kid === undefined ? undefined : keys.get(kid);
	if (!key)
		return { ok: false, reason: 'signed with a key Microsoft does not publish', unknownKey: true };
	const signed = Buffer.from(`${segments[0]}.${segments[1]}`);
	if (!verify('RSA-SHA256', signed, key, Buffer.from(segments[2], 'base64url'))) {
		return { ok: false, reason: 'its signature does not verify' };
	}
	const number = (value: unknown) => (typeof value === 'number' ? value : NaN);
	if (!(number(claims.exp) + CLOCK_SKEW_S > expected.now)) return { ok: false, reason: 'expired' };
	if (number(claims.nbf) - CLOCK_SKEW_S > expected.now)
		return { ok: false, reason: 'not valid yet' };
	const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
	const clientId = expected.clientId.toLowerCase();
	if (!audiences.some((aud) => typeof aud === 'string' && aud.toLowerCase() === clientId)) {
		return { ok: false, reason: 'issued for another app' };
	}
	const publisher = typeof claims.appid === 'string' ? claims.appid : claims.azp;
	if (typeof publisher !== 'string' || publisher.toLowerCase() !== CHANGE_TRACKING_APP_ID) {
		return { ok: false, reason: 'not issued to Microsoft Graph change tracking' };
	}
	const issuer = typeof claims.iss === 'string' ? claims.iss.toLowerCase() : '';
	const tenants = [...expected.tenantIds];
	if (
		!tenants.some((tenant) => issuers(tenant, expected.loginBaseUrl.toLowerCase()).includes(issuer))
	) {
		return { ok: false, reason: "not issued by the notifications' tenant" };
	}
	return { ok: true };
}
