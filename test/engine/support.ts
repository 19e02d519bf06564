import { X509Certificate } from 'crypto';
import { join } from 'path';
import { generate } from 'selfsigned';
import type { ICredentialType, IDataObject, INode, INodeType } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import { HARNESS_ITEMS_TYPE, MANUAL_TRIGGER_TYPE, type HarnessCredential, type HarnessWorkflow } from '../harness';

/** The package as n8n loads it: the built files under dist/ (npm test builds first). */
const dist = join(__dirname, '..', '..', 'dist');
/* eslint-disable @typescript-eslint/no-require-imports */
const { MicrosoftGraphPresence } = require(join(dist, 'nodes/MicrosoftGraphPresence/MicrosoftGraphPresence.node.js')) as {
	MicrosoftGraphPresence: new () => INodeType;
};
const { MicrosoftGraphPresenceOAuth2Api } = require(join(dist, 'credentials/MicrosoftGraphPresenceOAuth2Api.credentials.js')) as {
	MicrosoftGraphPresenceOAuth2Api: new () => ICredentialType;
};
const { MicrosoftGraphPresenceAppApi } = require(join(dist, 'credentials/MicrosoftGraphPresenceAppApi.credentials.js')) as {
	MicrosoftGraphPresenceAppApi: new () => ICredentialType;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const PRESENCE_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresence';
export const nodeTypes = { [PRESENCE_TYPE]: new MicrosoftGraphPresence() };
export const credentialTypes = [new MicrosoftGraphPresenceOAuth2Api(), new MicrosoftGraphPresenceAppApi()];

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
	certificate ??= await generate([{ name: 'commonName', value: 'n8n-nodes-msgraph-presence test' }], { keySize: 2048 });
	const cert = new X509Certificate(certificate.cert);
	const app: TestApp = {
		clientId,
		clientSecret: `secret~${clientId}~Vx9.Q2`,
		privateKey: certificate.private,
		certificatePem: certificate.cert,
		thumbprintSha256: cert.fingerprint256,
		thumbprintSha1: cert.fingerprint,
	};
	emu.registerApp({ tenantId: TENANT, clientId, clientSecret: app.clientSecret, certificatePem: app.certificatePem });
	return app;
}

const custom = (emu: GraphEmulator) => ({ cloud: 'custom', graphBaseUrl: emu.url, loginBaseUrl: emu.loginBaseUrl });

export function appSecretCredential(emu: GraphEmulator, app: TestApp): HarnessCredential {
	return {
		type: 'microsoftGraphPresenceAppApi',
		name: 'Graph app (secret)',
		data: { ...custom(emu), tenantId: TENANT, clientId: app.clientId, authMethod: 'secret', clientSecret: app.clientSecret },
	};
}

export function appCertificateCredential(emu: GraphEmulator, app: TestApp, thumbprint: 'sha256' | 'sha1' = 'sha256'): HarnessCredential {
	return {
		type: 'microsoftGraphPresenceAppApi',
		name: 'Graph app (certificate)',
		data: {
			...custom(emu),
			tenantId: TENANT,
			clientId: app.clientId,
			authMethod: 'certificate',
			privateKey: app.privateKey,
			certificateThumbprint: thumbprint === 'sha256' ? app.thumbprintSha256 : app.thumbprintSha1,
		},
	};
}

/** Signs a user in through the emulator's authorization code flow, as n8n's OAuth2 callback would. */
export async function delegatedCredential(emu: GraphEmulator, app: TestApp): Promise<HarnessCredential> {
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
	if (typeof oauthTokenData.access_token !== 'string') throw new Error(`no delegated token: ${JSON.stringify(oauthTokenData)}`);
	return {
		type: 'microsoftGraphPresenceOAuth2Api',
		name: 'Graph (delegated)',
		data: { ...custom(emu), tenant: TENANT, clientId: app.clientId, clientSecret: app.clientSecret, oauthTokenData },
	};
}

export interface PresenceWorkflowOptions {
	/** One input item per entry. */
	items: Array<Record<string, unknown>>;
	parameters: Record<string, unknown>;
	authentication: 'oAuth2' | 'application';
	credentialId: string;
	continueOnFail?: boolean;
}

/** Manual trigger → items → Microsoft Graph Presence, as a user would wire it. */
export function presenceWorkflow(options: PresenceWorkflowOptions): HarnessWorkflow {
	const credentialType = options.authentication === 'application' ? 'microsoftGraphPresenceAppApi' : 'microsoftGraphPresenceOAuth2Api';
	const nodes: INode[] = [
		{ id: 'n1', name: 'Start', type: MANUAL_TRIGGER_TYPE, typeVersion: 1, position: [0, 0], parameters: {} },
		{
			id: 'n2',
			name: 'Items',
			type: HARNESS_ITEMS_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters: { items: JSON.stringify(options.items) },
		},
		{
			id: 'n3',
			name: 'Presence',
			type: PRESENCE_TYPE,
			typeVersion: 1,
			position: [400, 0],
			parameters: { authentication: options.authentication, ...options.parameters },
			credentials: { [credentialType]: { id: options.credentialId, name: 'Graph' } },
			...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		},
	];
	return {
		nodes,
		connections: {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: 'Presence', type: 'main', index: 0 }]] },
		},
	};
}

/** Every string a run must never show: the secret, the private key and every token the emulator issued. */
export function secretsOf(emu: GraphEmulator, app: TestApp): string[] {
	const keyBody = app.privateKey.split('\n').filter((line) => line && !line.startsWith('-----'));
	return [app.clientSecret, ...keyBody, ...emu.tokensIssued];
}

export function findSecrets(haystack: unknown, secrets: string[]): string[] {
	const text = typeof haystack === 'string' ? haystack : JSON.stringify(haystack);
	return secrets.filter((secret) => secret.length >= 8 && text.includes(secret));
}
