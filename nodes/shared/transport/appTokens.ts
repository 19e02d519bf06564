import {
	ConfidentialClientApplication,
	type Configuration,
	type INetworkModule,
} from '@azure/msal-node';
import { createHash } from 'crypto';

import { BoundedCache, type CachePolicy } from '../cache/boundedCache';
import type { CloudEndpoints } from './clouds';

/**
 * App-only tokens through @azure/msal-node. MSAL keeps its token cache inside the client instance
 * and renews 5 minutes before expiry, so one instance per credential is kept for as long as it is
 * used: later executions are served from that cache instead of asking Entra again.
 */

export interface AppCredential {
	tenantId: string;
	clientId: string;
	authMethod: 'secret' | 'certificate';
	clientSecret?: string;
	privateKey?: string;
	certificateThumbprint?: string;
}

/** Reads the fields of a `microsoftGraphPresenceAppApi` credential. */
export function readAppCredential(data: Record<string, unknown>): AppCredential {
	const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
	return {
		tenantId: (text(data.tenantId) ?? '').trim(),
		clientId: (text(data.clientId) ?? '').trim(),
		authMethod: data.authMethod === 'certificate' ? 'certificate' : 'secret',
		clientSecret: text(data.clientSecret),
		privateKey: text(data.privateKey),
		certificateThumbprint: text(data.certificateThumbprint),
	};
}

/**
 * MSAL applications kept: one per app (cloud, login URL, tenant, client id), holding its secret or
 * key and its tokens. A credential whose secret or key changed replaces the app at once, so the
 * old secret and the tokens it earned leave memory; an app unused for an hour goes (its token,
 * valid for about an hour, would need renewing anyway); beyond 100 apps the least recently used
 * goes, but never one with a token request in flight.
 */
export const APP_CACHE_POLICY: Readonly<CachePolicy> = { maxEntries: 100, idleMs: 60 * 60_000 };

interface CachedApp {
	app: ConfidentialClientApplication;
	/** Token requests under way with this app. */
	inFlight: number;
}

const clients = new BoundedCache<CachedApp>(APP_CACHE_POLICY, {
	inUse: (cached) => cached.inFlight > 0,
});

/** What a credential (possibly half-filled) lacks, so the node can say so before any request. */
export function checkAppCredential(credential: AppCredential): string | undefined {
	if (!credential.tenantId) return 'Tenant ID is empty';
	if (['common', 'organizations', 'consumers'].includes(credential.tenantId.toLowerCase())) {
		return `Tenant ID must be your tenant's ID or domain, not "${credential.tenantId}": application tokens are issued by one tenant`;
	}
	if (!credential.clientId) return 'Client ID is empty';
	if (credential.authMethod === 'certificate') {
		if (
			!credential.privateKey ||
			!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(credential.privateKey)
		) {
			return 'Private Key must be a PEM private key (-----BEGIN PRIVATE KEY-----)';
		}
		if (!thumbprintKind(credential.certificateThumbprint ?? '')) {
			return 'Certificate Thumbprint must be 64 (SHA-256) or 40 (SHA-1) hex characters';
		}
	} else if (!credential.clientSecret) {
		return 'Client Secret is empty';
	}
	return undefined;
}

function normalizeThumbprint(value: string): string {
	return value.replace(/[\s:]/g, '').toLowerCase();
}

function thumbprintKind(value: string): 'sha256' | 'sha1' | undefined {
	const hex = normalizeThumbprint(value);
	if (/^[0-9a-f]{64}$/.test(hex)) return 'sha256';
	if (/^[0-9a-f]{40}$/.test(hex)) return 'sha1';
	return undefined;
}

/** Pasted keys sometimes arrive with literal "\n" instead of line breaks. */
function normalizePem(pem: string): string {
	return pem.includes('\n') ? pem.trim() : pem.replace(/\\n/g, '\n').trim();
}

/**
 * Graph's app-only scope. A custom endpoint is a gateway or proxy in front of Graph, so it keeps
 * Graph's.
 */
export function appScope(cloud: string, endpoints: CloudEndpoints): string {
	return cloud === 'custom'
		? 'https://graph.microsoft.com/.default'
		: `${endpoints.graphBaseUrl}/.default`;
}

/**
 * A custom login URL (gateway, emulator) is not a Microsoft authority: MSAL would try to discover
 * it and insists on https. Giving it the endpoints up front and our own network client keeps MSAL
 * off the network except for the token request itself.
 */
function customAuthority(
	loginBaseUrl: string,
	tenantId: string,
): Pick<Configuration['auth'], 'authority' | 'knownAuthorities' | 'authorityMetadata'> & {
	system: Configuration['system'];
} {
	const host = new URL(loginBaseUrl).host;
	const authority = `https://${host}/${tenantId}`;
	return {
		authority,
		knownAuthorities: [host],
		authorityMetadata: JSON.stringify({
			token_endpoint: `${loginBaseUrl}/${tenantId}/oauth2/v2.0/token`,
			// MSAL reads the tenant from this path's first segment; it is never called for client
			// credentials.
			authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
			issuer: `${loginBaseUrl}/${tenantId}/v2.0`,
			jwks_uri: `${loginBaseUrl}/${tenantId}/discovery/v2.0/keys`,
			end_session_endpoint: `${loginBaseUrl}/${tenantId}/oauth2/v2.0/logout`,
		}),
		system: { networkClient: fetchNetworkClient },
	};
}

const fetchNetworkClient: INetworkModule = {
	async sendGetRequestAsync(url, options) {
		return await send(url, 'GET', options?.headers, undefined);
	},
	async sendPostRequestAsync(url, options) {
		return await send(url, 'POST', options?.headers, options?.body);
	},
};

async function send<T>(
	url: string,
	method: string,
	headers: Record<string, string> | undefined,
	body: string | undefined,
) {
	const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(30_000) });
	const text = await response.text();
	let parsed: unknown = {};
	try {
		parsed = text === '' ? {} : JSON.parse(text);
	} catch {
		parsed = {
			error: 'invalid_response',
			error_description: `Token endpoint answered ${response.status} with a body that is not JSON`,
		};
	}
	return {
		status: response.status,
		headers: Object.fromEntries(response.headers.entries()),
		body: parsed as T,
	};
}

function clientFor(
	cloud: string,
	endpoints: CloudEndpoints,
	credential: AppCredential,
	now: number,
): CachedApp {
	// Who the app is: one entry per app, whichever secret or key it signs in with today.
	const identity = JSON.stringify([
		cloud,
		endpoints.loginBaseUrl,
		credential.tenantId.toLowerCase(),
		credential.clientId.toLowerCase(),
	]);
	const secretPart =
		credential.authMethod === 'certificate'
			? `${normalizeThumbprint(credential.certificateThumbprint ?? '')}|${credential.privateKey ?? ''}`
			: (credential.clientSecret ?? '');
	// What it signs in with: a rotated secret or key is a new version. Only kept hashed.
	const version = createHash('sha256')
		.update(
			JSON.stringify([credential.authMethod, secretPart, credential.tenantId, credential.clientId]),
		)
		.digest('hex');
	return clients.obtain(identity, version, now, () => ({
		app: newClient(cloud, endpoints, credential),
		inFlight: 0,
	}));
}

function newClient(
	cloud: string,
	endpoints: CloudEndpoints,
	credential: AppCredential,
): ConfidentialClientApplication {
	const custom =
		cloud === 'custom' ? customAuthority(endpoints.loginBaseUrl, credential.tenantId) : undefined;
	const kind = thumbprintKind(credential.certificateThumbprint ?? '');
	const configuration: Configuration = {
		auth: {
			clientId: credential.clientId,
			authority: custom?.authority ?? `${endpoints.loginBaseUrl}/${credential.tenantId}`,
			knownAuthorities: custom?.knownAuthorities,
			authorityMetadata: custom?.authorityMetadata,
			...(credential.authMethod === 'certificate'
				? {
						clientCertificate: {
							privateKey: normalizePem(credential.privateKey ?? ''),
							...(kind === 'sha1'
								? { thumbprint: normalizeThumbprint(credential.certificateThumbprint ?? '') }
								: {
										thumbprintSha256: normalizeThumbprint(credential.certificateThumbprint ?? ''),
									}),
						},
					}
				: { clientSecret: credential.clientSecret }),
		},
		system: {
			...custom?.system,
			// MSAL's own logging stays off: its messages may carry request details.
			loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
		},
	};
	return new ConfidentialClientApplication(configuration);
}

export class AppTokenError extends Error {
	constructor(
		message: string,
		readonly code: string,
	) {
		super(message);
	}
}

/**
 * An access token for Graph; `forceRefresh` skips MSAL's cache (after Graph answered 401). `now` is
 * the cache's clock (tests pass their own).
 */
export async function acquireAppToken(
	cloud: string,
	endpoints: CloudEndpoints,
	credential: AppCredential,
	forceRefresh = false,
	now = Date.now(),
): Promise<string> {
	const client = clientFor(cloud, endpoints, credential, now);
	let accessToken: string | undefined;
	client.inFlight++;
	try {
		const result = await client.app.acquireTokenByClientCredential({
			scopes: [appScope(cloud, endpoints)],
			skipCache: forceRefresh,
		});
		accessToken = result?.accessToken;
	} catch (error) {
		throw describeMsalError(error);
	} finally {
		client.inFlight--;
	}
	if (!accessToken)
		throw new AppTokenError('The token endpoint returned no access token', 'no_token');
	return accessToken;
}

/**
 * MSAL's errors carry Entra's code and AADSTS message, which never echo the secret; keep just
 * those.
 */
function describeMsalError(error: unknown): AppTokenError {
	const record =
		typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
	const code =
		typeof record.errorCode === 'string' && record.errorCode ? record.errorCode : 'token_error';
	const detail =
		typeof record.errorMessage === 'string' && record.errorMessage
			? record.errorMessage
			: error instanceof Error
				? error.message
				: 'unknown error';
	return new AppTokenError(
		`Could not get an application token (${code}): ${detail.split('\n')[0]}`,
		code,
	);
}
