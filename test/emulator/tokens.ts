import {
	X509Certificate,
	constants,
	createHash,
	randomBytes,
	randomUUID,
	verify,
	type KeyObject,
} from 'node:crypto';
import { isRecord } from './util';

export interface AppRegistration {
	tenantId: string;
	clientId: string;
	clientSecret?: string;
	/** X.509 PEM; client assertions must be signed by its key and name it by x5t or x5t#S256. */
	certificatePem?: string;
}

export type TokenKind = 'app' | 'delegated';

export interface TokenRecord {
	token: string;
	kind: TokenKind;
	tenantId: string;
	clientId: string;
	userId?: string;
	scope: string;
	issuedAt: number;
	expiresAt: number;
}

export type TokenCheck =
	| { ok: true; record: TokenRecord }
	| { ok: false; reason: 'missing' | 'unknown' | 'expired'; record?: TokenRecord };

export interface LoginResponse {
	status: number;
	headers: Record<string, string>;
	body?: unknown;
	clientId?: string;
}

interface RegisteredApp {
	tenantId: string;
	clientId: string;
	clientSecret?: string;
	certificate?: { publicKey: KeyObject; x5t: string; x5tS256: string };
}

interface RefreshRecord {
	tenantId: string;
	clientId: string;
	userId: string;
	scope: string;
}

interface CodeRecord {
	clientId: string;
	userId?: string;
	redirectUri: string;
	scope: string;
	expiresAt: number;
	used: boolean;
	codeChallenge?: string;
	codeChallengeMethod?: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Tenant aliases Entra accepts for user sign-in but not for app-only tokens. */
const MULTI_TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);
const CODE_LIFETIME_MS = 10 * 60 * 1000;
const JSON_HEADERS = {
	'Content-Type': 'application/json; charset=utf-8',
	'Cache-Control': 'no-store, no-cache',
	Pragma: 'no-cache',
};

/** An Entra-shaped failure, carried as a value so every branch of the token endpoint reads the same. */
class EntraError {
	constructor(
		readonly status: number,
		readonly error: string,
		readonly code: number,
		readonly description: string,
	) {}
}

export class TokenService {
	readonly issued: string[] = [];
	private readonly apps = new Map<string, RegisteredApp>();
	private readonly accessTokens = new Map<string, TokenRecord>();
	private readonly refreshTokens = new Map<string, RefreshRecord>();
	private readonly codes = new Map<string, CodeRecord>();

	constructor(
		private readonly loginBaseUrl: string,
		public lifetimeSeconds: number,
		private readonly signedInUserId: () => string | undefined,
	) {}

	registerApp(registration: AppRegistration): void {
		const { tenantId, clientId, clientSecret, certificatePem } = registration;
		if (!tenantId || !clientId) throw new Error('registerApp needs tenantId and clientId');
		if (clientSecret === undefined && certificatePem === undefined) {
			throw new Error('registerApp needs a clientSecret, a certificatePem, or both');
		}
		const app: RegisteredApp = { tenantId, clientId, clientSecret };
		if (certificatePem !== undefined) {
			const cert = new X509Certificate(certificatePem);
			app.certificate = {
				publicKey: cert.publicKey,
				x5t: createHash('sha1').update(cert.raw).digest('base64url'),
				x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
			};
		}
		this.apps.set(appKey(tenantId, clientId), app);
	}

	check(authorization: string | undefined, now: number): TokenCheck {
		const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
		if (match === null) return { ok: false, reason: 'missing' };
		const record = this.accessTokens.get(match[1]);
		if (record === undefined) return { ok: false, reason: 'unknown' };
		if (record.expiresAt <= now) return { ok: false, reason: 'expired', record };
		return { ok: true, record };
	}

	/** Refresh tokens are deliberately left alone: that is what lets a client recover. */
	expireAll(now: number): void {
		for (const record of this.accessTokens.values())
			record.expiresAt = Math.min(record.expiresAt, now - 1);
	}

	record(token: string): TokenRecord | undefined {
		const record = this.accessTokens.get(token);
		return record === undefined ? undefined : { ...record };
	}

	/** Signs the user in silently: no consent page, straight back to redirect_uri with a code. */
	authorize(tenant: string, query: URLSearchParams, now: number): LoginResponse {
		const clientId = query.get('client_id') ?? '';
		try {
			const app = this.findApp(tenant, clientId, false);
			if (query.get('response_type') !== 'code') {
				throw new EntraError(
					400,
					'unsupported_response_type',
					700054,
					"response_type must be 'code'.",
				);
			}
			const redirectUri = query.get('redirect_uri') ?? '';
			if (!URL.canParse(redirectUri)) throw missingParameter('redirect_uri');
			const code = `emu-code-${randomBytes(24).toString('hex')}`;
			this.codes.set(code, {
				clientId: app.clientId,
				userId: this.signedInUserId(),
				redirectUri,
				scope: query.get('scope') ?? '',
				expiresAt: now + CODE_LIFETIME_MS,
				used: false,
				codeChallenge: query.get('code_challenge') ?? undefined,
				codeChallengeMethod: query.get('code_challenge_method') ?? undefined,
			});
			const location = new URL(redirectUri);
			location.searchParams.set('code', code);
			const state = query.get('state');
			if (state !== null) location.searchParams.set('state', state);
			return { status: 302, headers: { Location: location.toString() }, clientId };
		} catch (err: unknown) {
			return this.errorResponse(err, clientId, now);
		}
	}

	token(
		tenant: string,
		form: URLSearchParams,
		authorization: string | undefined,
		now: number,
	): LoginResponse {
		const basic = parseBasicAuth(authorization);
		const clientId = form.get('client_id') ?? basic?.clientId ?? '';
		try {
			const grantType = form.get('grant_type');
			if (!grantType) throw missingParameter('grant_type');
			if (!clientId) throw missingParameter('client_id');
			const app = this.findApp(tenant, clientId, grantType === 'client_credentials');
			this.authenticateClient(app, tenant, form, basic, now);
			switch (grantType) {
				case 'client_credentials': {
					const scope = (form.get('scope') ?? '').trim();
					if (!/^\S+\/\.default$/.test(scope)) {
						throw new EntraError(
							400,
							'invalid_scope',
							1002012,
							`The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
						);
					}
					return this.issue(app, 'app', undefined, scope, now);
				}
				case 'authorization_code': {
					const code = this.codes.get(form.get('code') ?? '');
					if (code === undefined || code.clientId !== app.clientId || code.expiresAt <= now) {
						throw new EntraError(
							400,
							'invalid_grant',
							70000,
							'The provided authorization code is invalid or has expired.',
						);
					}
					if (code.used) {
						throw new EntraError(
							400,
							'invalid_grant',
							54005,
							'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
						);
					}
					const redirectUri = form.get('redirect_uri');
					if (redirectUri !== null && redirectUri !== code.redirectUri) {
						throw new EntraError(
							400,
							'invalid_grant',
							50148,
							'The redirect_uri specified in the token request does not match the redirect_uri used in the authorization request.',
						);
					}
					verifyPkce(code, form.get('code_verifier'));
					code.used = true;
					const userId = code.userId ?? this.signedInUserId();
					if (userId === undefined) {
						throw new EntraError(
							400,
							'invalid_grant',
							50034,
							'The user account does not exist in the emulated directory (add users first).',
						);
					}
					return this.issue(app, 'delegated', userId, form.get('scope') ?? code.scope, now);
				}
				case 'refresh_token': {
					const refresh = this.refreshTokens.get(form.get('refresh_token') ?? '');
					if (refresh === undefined || refresh.clientId !== app.clientId) {
						throw new EntraError(
							400,
							'invalid_grant',
							9002313,
							'Invalid request. Request is malformed or invalid.',
						);
					}
					return this.issue(
						app,
						'delegated',
						refresh.userId,
						form.get('scope') ?? refresh.scope,
						now,
					);
				}
				default:
					throw new EntraError(
						400,
						'unsupported_grant_type',
						70003,
						`The app requested an unsupported grant type '${grantType}'.`,
					);
			}
		} catch (err: unknown) {
			return this.errorResponse(err, clientId, now);
		}
	}

	/** Lets a test build msal-node's authorityMetadata from the emulator instead of writing it by hand. */
	openIdConfiguration(tenant: string): LoginResponse {
		const base = `${this.loginBaseUrl}/${tenant}`;
		return {
			status: 200,
			headers: JSON_HEADERS,
			body: {
				token_endpoint: `${base}/oauth2/v2.0/token`,
				authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
				issuer: `${base}/v2.0`,
				jwks_uri: `${base}/discovery/v2.0/keys`,
				token_endpoint_auth_methods_supported: [
					'client_secret_post',
					'private_key_jwt',
					'client_secret_basic',
				],
				response_types_supported: ['code'],
			},
		};
	}

	private findApp(tenant: string, clientId: string, appOnly: boolean): RegisteredApp {
		const alias = MULTI_TENANT_ALIASES.has(tenant.toLowerCase());
		if (alias && appOnly) {
			throw new EntraError(
				400,
				'invalid_request',
				50059,
				'No tenant-identifying information found in either the request or implied by any provided credentials.',
			);
		}
		const apps = [...this.apps.values()];
		if (!alias && !apps.some((a) => a.tenantId.toLowerCase() === tenant.toLowerCase())) {
			throw new EntraError(
				400,
				'invalid_request',
				90002,
				`Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
			);
		}
		const app = alias
			? apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase())
			: this.apps.get(appKey(tenant, clientId));
		if (app === undefined) {
			throw new EntraError(
				400,
				'unauthorized_client',
				700016,
				`Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
			);
		}
		return app;
	}

	private authenticateClient(
		app: RegisteredApp,
		tenant: string,
		form: URLSearchParams,
		basic: BasicAuth | undefined,
		now: number,
	): void {
		const assertion = form.get('client_assertion');
		if (assertion !== null) {
			if (form.get('client_assertion_type') !== JWT_BEARER)
				throw missingParameter('client_assertion_type');
			verifyClientAssertion(assertion, app, tenant, form.get('client_id'), now);
			return;
		}
		const candidates = [...(basic?.secrets ?? [])];
		const bodySecret = form.get('client_secret');
		if (bodySecret !== null) candidates.push(bodySecret);
		if (candidates.length === 0) {
			throw new EntraError(
				401,
				'invalid_client',
				7000218,
				"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
			);
		}
		if (app.clientSecret === undefined || !candidates.includes(app.clientSecret)) {
			throw new EntraError(
				401,
				'invalid_client',
				7000215,
				`Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
			);
		}
	}

	private issue(
		app: RegisteredApp,
		kind: TokenKind,
		userId: string | undefined,
		scope: string,
		now: number,
	): LoginResponse {
		const accessToken = `emu-at-${randomBytes(24).toString('hex')}`;
		this.accessTokens.set(accessToken, {
			token: accessToken,
			kind,
			tenantId: app.tenantId,
			clientId: app.clientId,
			userId,
			scope,
			issuedAt: now,
			expiresAt: now + this.lifetimeSeconds * 1000,
		});
		this.issued.push(accessToken);
		const body: Record<string, unknown> = {
			token_type: 'Bearer',
			scope,
			expires_in: this.lifetimeSeconds,
			ext_expires_in: this.lifetimeSeconds,
			access_token: accessToken,
		};
		if (kind === 'delegated' && userId !== undefined) {
			const refreshToken = `emu-rt-${randomBytes(24).toString('hex')}`;
			// Entra does not revoke the previous refresh token when it issues a new one; neither does this.
			this.refreshTokens.set(refreshToken, {
				tenantId: app.tenantId,
				clientId: app.clientId,
				userId,
				scope,
			});
			this.issued.push(refreshToken);
			body.refresh_token = refreshToken;
		}
		return { status: 200, headers: JSON_HEADERS, body, clientId: app.clientId };
	}

	private errorResponse(err: unknown, clientId: string, now: number): LoginResponse {
		if (!(err instanceof EntraError)) throw err;
		const traceId = randomUUID();
		const correlationId = randomUUID();
		const timestamp = new Date(now)
			.toISOString()
			.replace('T', ' ')
			.replace(/\.\d+Z$/, 'Z');
		return {
			status: err.status,
			headers: JSON_HEADERS,
			clientId: clientId || undefined,
			body: {
				error: err.error,
				error_description: `AADSTS${err.code}: ${err.description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
				error_codes: [err.code],
				timestamp,
				trace_id: traceId,
				correlation_id: correlationId,
				error_uri: `${this.loginBaseUrl}/error?code=${err.code}`,
			},
		};
	}
}

function appKey(tenantId: string, clientId: string): string {
	return `${tenantId.toLowerCase()}|${clientId.toLowerCase()}`;
}

function missingParameter(name: string): EntraError {
	return new EntraError(
		400,
		'invalid_request',
		900144,
		`The request body must contain the following parameter: '${name}'.`,
	);
}

interface BasicAuth {
	clientId: string;
	/** Clients disagree on whether to form-encode before base64 (RFC 6749 says to), so both readings are tried. */
	secrets: string[];
}

function parseBasicAuth(authorization: string | undefined): BasicAuth | undefined {
	const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
	if (match === null) return undefined;
	const decoded = Buffer.from(match[1], 'base64').toString('utf8');
	const colon = decoded.indexOf(':');
	if (colon < 0) return undefined;
	const rawSecret = decoded.slice(colon + 1);
	return {
		clientId: formDecode(decoded.slice(0, colon)),
		secrets: [rawSecret, formDecode(rawSecret)],
	};
}

function formDecode(value: string): string {
	try {
		return decodeURIComponent(value.replace(/\+/g, ' '));
	} catch {
		return value;
	}
}

function verifyPkce(code: CodeRecord, verifier: string | null): void {
	if (code.codeChallenge === undefined) return;
	const expected =
		verifier === null
			? undefined
			: code.codeChallengeMethod?.toUpperCase() === 'S256'
				? createHash('sha256').update(verifier).digest('base64url')
				: verifier;
	if (expected !== code.codeChallenge) {
		throw new EntraError(
			400,
			'invalid_grant',
			501481,
			'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
		);
	}
}

function decodeJwtPart(part: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
		return isRecord(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

/** The checks Entra makes on a private_key_jwt assertion as @azure/msal-node builds it. */
function verifyClientAssertion(
	jwt: string,
	app: RegisteredApp,
	tenant: string,
	clientIdParam: string | null,
	now: number,
): void {
	const invalid = (code: number, description: string): EntraError =>
		new EntraError(401, 'invalid_client', code, description);
	const parts = jwt.split('.');
	const header = parts.length === 3 ? decodeJwtPart(parts[0]) : undefined;
	const payload = parts.length === 3 ? decodeJwtPart(parts[1]) : undefined;
	if (header === undefined || payload === undefined)
		throw invalid(50027, 'JWT token is invalid or malformed.');

	const cert = app.certificate;
	const stripPadding = (v: unknown): string | undefined =>
		typeof v === 'string' ? v.replace(/=+$/, '') : undefined;
	const named =
		cert !== undefined &&
		(stripPadding(header['x5t#S256']) === cert.x5tS256 || stripPadding(header.x5t) === cert.x5t);
	if (cert === undefined || !named) {
		throw invalid(
			700027,
			'The certificate with identifier used to sign the client assertion is not registered on application.',
		);
	}

	const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`);
	const signature = Buffer.from(parts[2], 'base64url');
	let valid = false;
	if (header.alg === 'RS256') {
		valid = verify(
			'sha256',
			signingInput,
			{ key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING },
			signature,
		);
	} else if (header.alg === 'PS256') {
		valid = verify(
			'sha256',
			signingInput,
			{
				key: cert.publicKey,
				padding: constants.RSA_PKCS1_PSS_PADDING,
				saltLength: constants.RSA_PSS_SALTLEN_AUTO,
			},
			signature,
		);
	}
	if (!valid) throw invalid(700027, 'Client assertion failed signature validation.');

	const clientId = app.clientId.toLowerCase();
	const iss = typeof payload.iss === 'string' ? payload.iss.toLowerCase() : '';
	const sub = typeof payload.sub === 'string' ? payload.sub.toLowerCase() : '';
	if (
		iss !== clientId ||
		sub !== clientId ||
		(clientIdParam !== null && clientIdParam.toLowerCase() !== clientId)
	) {
		throw invalid(
			700021,
			"Client assertion application identifier doesn't match 'client_id' parameter.",
		);
	}

	// Host and scheme are not compared: tests may point msal-node at a made-up https authority.
	const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
	const suffix = `/${tenant.toLowerCase()}/oauth2/v2.0/token`;
	const audienceOk = audiences.some(
		(aud) =>
			typeof aud === 'string' &&
			URL.canParse(aud) &&
			new URL(aud).pathname.toLowerCase().endsWith(suffix),
	);
	if (!audienceOk)
		throw invalid(
			50027,
			`Invalid JWT token. The audience must be this tenant's token endpoint (path ending '${suffix}').`,
		);

	const nowSeconds = now / 1000;
	const exp = typeof payload.exp === 'number' ? payload.exp : 0;
	const nbf = typeof payload.nbf === 'number' ? payload.nbf : 0;
	// Five minutes of clock skew, as Entra allows, for nbf only: an expired assertion must fail.
	if (exp <= nowSeconds || nbf > nowSeconds + 300)
		throw invalid(700024, 'Client assertion is not within its valid time range.');
}
