import { X509Certificate } from 'crypto';
import { generate } from 'selfsigned';
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import type { GraphEmulator } from '../emulator';

/**
 * An Entra app registered with the Graph emulator, and the credential data n8n stores for it: shared by the
 * engine tests, the end-to-end tests and the demo (no n8n import here, so scripts can load it cheaply).
 */

export const TENANT = '11111111-2222-4333-8444-555555555555';

export interface TestApp {
	clientId: string;
	clientSecret: string;
	privateKey: string;
	certificatePem: string;
	thumbprintSha256: string;
	thumbprintSha1: string;
}

let certificate: { private: string; cert: string } | undefined;

/** Registers an app (secret and certificate) with the emulator; each test may take its own client id. */
export async function registerApp(emu: GraphEmulator, clientId: string): Promise<TestApp> {
	certificate ??= await generate(
		[{ name: 'commonName', value: 'n8n-nodes-msgraph-presence test' }],
		{ keySize: 2048 },
	);
	const cert = new X509Certificate(certificate.cert);
	const app: TestApp = {
		clientId,
		clientSecret: `secret~${clientId}~Vx9.Q2`,
		privateKey: certificate.private,
		certificatePem: certificate.cert,
		thumbprintSha256: cert.fingerprint256,
		thumbprintSha1: cert.fingerprint,
	};
	emu.registerApp({
		tenantId: TENANT,
		clientId,
		clientSecret: app.clientSecret,
		certificatePem: app.certificatePem,
	});
	return app;
}

const custom = (emu: GraphEmulator) => ({
	cloud: 'custom',
	graphBaseUrl: emu.url,
	loginBaseUrl: emu.loginBaseUrl,
});

export function appSecretData(emu: GraphEmulator, app: TestApp): ICredentialDataDecryptedObject {
	return {
		...custom(emu),
		tenantId: TENANT,
		clientId: app.clientId,
		authMethod: 'secret',
		clientSecret: app.clientSecret,
	};
}

export function appCertificateData(
	emu: GraphEmulator,
	app: TestApp,
	thumbprint: 'sha256' | 'sha1' = 'sha256',
): ICredentialDataDecryptedObject {
	return {
		...custom(emu),
		tenantId: TENANT,
		clientId: app.clientId,
		authMethod: 'certificate',
		privateKey: app.privateKey,
		certificateThumbprint: thumbprint === 'sha256' ? app.thumbprintSha256 : app.thumbprintSha1,
	};
}

/** Signs a user in through the emulator's authorization code flow, as n8n's OAuth2 callback would. */
export async function delegatedData(
	emu: GraphEmulator,
	app: TestApp,
): Promise<ICredentialDataDecryptedObject> {
	const redirectUri = 'http://localhost:5678/rest/oauth2-credential/callback';
	const authorize = await fetch(
		`${emu.loginBaseUrl}/${TENANT}/oauth2/v2.0/authorize?client_id=${app.clientId}&response_type=code&redirect_uri=${encodeURIComponent(redirectUri)}&state=s`,
		{ redirect: 'manual' },
	);
	const code = new URL(authorize.headers.get('location') ?? '').searchParams.get('code');
	if (!code) throw new Error(`authorize gave no code (${authorize.status})`);
	const token = await fetch(`${emu.loginBaseUrl}/${TENANT}/oauth2/v2.0/token`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({
			grant_type: 'authorization_code',
			code,
			redirect_uri: redirectUri,
			client_id: app.clientId,
			client_secret: app.clientSecret,
		}),
	});
	const oauthTokenData = (await token.json()) as IDataObject;
	if (typeof oauthTokenData.access_token !== 'string')
		throw new Error(`no delegated token: ${JSON.stringify(oauthTokenData)}`);
	return {
		...custom(emu),
		tenant: TENANT,
		clientId: app.clientId,
		clientSecret: app.clientSecret,
		oauthTokenData,
	};
}

/**
 * Every string a run must never show: the secret, the private key, every token the emulator issued and every
 * clientState a subscriber sent it (the secret Graph's notifications are checked with).
 */
export function secretsOf(emu: GraphEmulator, app: TestApp): string[] {
	const keyBody = app.privateKey.split('\n').filter((line) => line && !line.startsWith('-----'));
	return [app.clientSecret, ...keyBody, ...emu.tokensIssued, ...emu.clientStatesSeen];
}

export function findSecrets(haystack: unknown, secrets: string[]): string[] {
	const text = typeof haystack === 'string' ? haystack : JSON.stringify(haystack);
	return secrets.filter((secret) => secret.length >= 8 && text.includes(secret));
}
