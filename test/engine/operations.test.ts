import type { GraphEmulator } from '../emulator';
import type { HarnessCredential } from '../harness';
import {
	appCertificateCredential,
	appSecretCredential,
	delegatedCredential,
	findSecrets,
	runPresence,
	registerApp,
	secretsOf,
	type TestApp,
	useEmulator,
} from './support';

let emu: GraphEmulator;
let app: TestApp;

useEmulator(
	{ seed: 11, users: 50, clientId: 'bbbbbbbb-0000-4000-8000-000000000001' },
	(started) => ({ emu, app } = started),
);

function run(
	credentials: Record<string, HarnessCredential>,
	authentication: 'oAuth2' | 'application',
	items: Array<Record<string, unknown>>,
	parameters: Record<string, unknown>,
	continueOnFail = false,
) {
	return runPresence({
		items,
		parameters,
		authentication,
		credentialId: 'cred',
		continueOnFail,
		credentials,
	});
}

const tokenRequests = () => emu.log.filter((entry) => entry.path.endsWith('/oauth2/v2.0/token'));

describe('Get Me', () => {
	it("reads the signed-in user's presence with the delegated credential", async () => {
		const credentials = { cred: await delegatedCredential(emu, app) };
		emu.clearLog();
		const result = await run(credentials, 'oAuth2', [{}], { operation: 'getMe' });
		expect(result.error).toBeUndefined();
		const me = emu.getUser(emu.meUserId ?? '');
		expect(result.output('Presence').map((item) => item.json)).toEqual([
			expect.objectContaining({ id: me?.id, availability: me?.presence.availability }),
		]);
		expect(emu.requests('/me/presence')).toHaveLength(1);
	});

	it('refuses the application credential before any request', async () => {
		const credentials = { cred: appSecretCredential(emu, app) };
		const result = await run(credentials, 'application', [{}], { operation: 'getMe' });
		expect(result.error?.message).toContain('Get Me needs the delegated (OAuth2) credential');
		expect(emu.log).toHaveLength(0);
	});

	it("refreshes an expired delegated token through n8n's OAuth2 support, once", async () => {
		const credentials = { cred: await delegatedCredential(emu, app) };
		const before = String(
			(credentials.cred.data.oauthTokenData as Record<string, unknown>).access_token,
		);
		emu.expireAllTokens();
		emu.clearLog();
		const result = await run(credentials, 'oAuth2', [{}], { operation: 'getMe' });
		expect(result.error).toBeUndefined();
		expect(tokenRequests()).toHaveLength(1);
		expect(tokenRequests()[0].body).toMatchObject({ grant_type: 'refresh_token' });
		const after = String(
			(result.credentials.cred.data.oauthTokenData as Record<string, unknown>).access_token,
		);
		expect(after).not.toBe(before);
		expect(emu.requests('/me/presence').map((entry) => entry.status)).toEqual([401, 200]);
	});
});

describe('Get User', () => {
	it('reads one presence per item, by GUID, UPN or e-mail in any case', async () => {
		const [a, b, c] = emu.users;
		const credentials = { cred: appSecretCredential(emu, app) };
		const result = await run(
			credentials,
			'application',
			[{ u: a.id.toUpperCase() }, { u: b.userPrincipalName }, { u: c.mail.toUpperCase() }],
			{
				operation: 'get',
				userId: '={{ $json.u }}',
			},
		);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output.map((item) => [item.json.id, item.pairedItem])).toEqual([
			[a.id, { item: 0 }],
			[b.id, { item: 1 }],
			[c.id, { item: 2 }],
		]);
		// Both names resolved in one $batch, then one GET per user.
		expect(emu.requests('/$batch').filter((entry) => !entry.batchSubRequest)).toHaveLength(1);
		expect(emu.requests('/presence').filter((entry) => !entry.batchSubRequest)).toHaveLength(3);
	});

	it('names an unknown user, and with Continue On Fail keeps the others', async () => {
		const credentials = { cred: appSecretCredential(emu, app) };
		const failing = await run(credentials, 'application', [{ u: 'ghost@contoso.test' }], {
			operation: 'get',
			userId: '={{ $json.u }}',
		});
		expect(failing.error?.message).toContain('no user "ghost@contoso.test"');

		const result = await run(
			credentials,
			'application',
			[{ u: emu.users[0].id }, { u: '00000000-0000-4000-8000-00000000dead' }, { u: 'not an id' }],
			{ operation: 'get', userId: '={{ $json.u }}' },
			true,
		);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output[0].json.id).toBe(emu.users[0].id);
		expect(output[1].json.error).toMatchObject({ httpCode: '404', requestId: expect.any(String) });
		expect(output[1].pairedItem).toEqual({ item: 1 });
		expect(JSON.stringify(output[2].json.error)).toContain('Item 2');
	});
});

describe('application credential', () => {
	it("gets one token across two executions (MSAL's cache lives with the process)", async () => {
		const own = await registerApp(emu, 'bbbbbbbb-0000-4000-8000-000000000002');
		const credentials = { cred: appSecretCredential(emu, own) };
		for (let i = 0; i < 2; i++) {
			const result = await run(credentials, 'application', [{}], {
				operation: 'getMany',
				userIds: emu.users[i].id,
			});
			expect(result.error).toBeUndefined();
		}
		expect(tokenRequests()).toHaveLength(1);
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(2);
	});

	it('refreshes an expired token once and retries', async () => {
		const own = await registerApp(emu, 'bbbbbbbb-0000-4000-8000-000000000003');
		const credentials = { cred: appSecretCredential(emu, own) };
		await run(credentials, 'application', [{}], { operation: 'getMany', userIds: emu.users[0].id });
		emu.expireAllTokens();
		emu.clearLog();
		const result = await run(credentials, 'application', [{}], {
			operation: 'getMany',
			userIds: emu.users[1].id,
		});
		expect(result.error).toBeUndefined();
		expect(result.output('Presence')[0].json.id).toBe(emu.users[1].id);
		expect(tokenRequests()).toHaveLength(1);
		expect(
			emu.requests('/communications/getPresencesByUserId').map((entry) => entry.status),
		).toEqual([401, 200]);
	});

	it.each(['sha256', 'sha1'] as const)(
		'signs in with a certificate (%s thumbprint)',
		async (thumbprint) => {
			const own = await registerApp(
				emu,
				`bbbbbbbb-0000-4000-8000-00000000010${thumbprint === 'sha1' ? 1 : 2}`,
			);
			const credentials = { cred: appCertificateCredential(emu, own, thumbprint) };
			const result = await run(credentials, 'application', [{}], {
				operation: 'getMany',
				userIds: emu.users[5].id,
			});
			expect(result.error).toBeUndefined();
			expect(result.output('Presence')[0].json.id).toBe(emu.users[5].id);
			expect(tokenRequests()[0].body).toMatchObject({
				client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
			});
			expect(findSecrets([result.output('Presence'), result.logs], secretsOf(emu, own))).toEqual(
				[],
			);
		},
	);

	it('says clearly when the secret is wrong, without showing it', async () => {
		const own = await registerApp(emu, 'bbbbbbbb-0000-4000-8000-000000000004');
		const wrong = appSecretCredential(emu, { ...own, clientSecret: 'wrong-secret-value-123' });
		const result = await run({ cred: wrong }, 'application', [{}], {
			operation: 'getMany',
			userIds: emu.users[0].id,
		});
		expect(result.error?.message).toContain('Could not get an application token (invalid_client)');
		expect(
			findSecrets(
				[result.error?.message, result.error?.description, result.logs],
				['wrong-secret-value-123', own.clientSecret],
			),
		).toEqual([]);
	});

	it('refuses a tenant of "common" before any request', async () => {
		const credential = appSecretCredential(emu, app);
		credential.data.tenantId = 'common';
		const result = await run({ cred: credential }, 'application', [{}], {
			operation: 'getMany',
			userIds: emu.users[0].id,
		});
		expect(result.error?.message).toContain('not "common"');
		expect(emu.log).toHaveLength(0);
	});
});

describe('errors from Graph', () => {
	it("carry Graph's code, message, request-id and HTTP status", async () => {
		const credentials = { cred: appSecretCredential(emu, app) };
		const result = await run(credentials, 'application', [{}], {
			operation: 'get',
			userId: '00000000-0000-4000-8000-00000000beef',
		});
		const error = result.error as (Error & { httpCode?: string; description?: string }) | undefined;
		expect(error?.message).toMatch(/Microsoft Graph answered 404 \w+/);
		expect(error?.httpCode).toBe('404');
		expect(error?.description).toMatch(/Graph request-id: [0-9a-f-]{36}/);
		const logged = emu.requests('/presence').at(-1);
		expect(error?.description).toContain(
			String(logged?.headers['request-id'] ?? (logged as { requestId?: string })?.requestId ?? ''),
		);
	});

	it('403 says which permission is missing and that admin consent may be needed', async () => {
		const own = await registerApp(emu, 'bbbbbbbb-0000-4000-8000-000000000005');
		emu.unconsentedClients.add(own.clientId);
		const result = await run({ cred: appSecretCredential(emu, own) }, 'application', [{}], {
			operation: 'getMany',
			userIds: emu.users[0].id,
		});
		const error = result.error as (Error & { httpCode?: string; description?: string }) | undefined;
		expect(error?.message).toBe(
			'Microsoft Graph answered 403 Forbidden: Insufficient privileges to complete the operation.',
		);
		expect(error?.httpCode).toBe('403');
		expect(error?.description).toContain('Presence.Read.All');
		expect(error?.description).toContain('admin consent');
		// Not a retryable status: one request only.
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(1);
	});
});

describe('delegated credential under faults', () => {
	it("Get Many through n8n's OAuth2 path retries 429, 503 and resets and loses nothing", async () => {
		const credentials = { cred: await delegatedCredential(emu, app) };
		emu.faults = { rate429: 0.2, rate503: 0.1, rateReset: 0.1, retryAfterSeconds: 0 };
		const ids = emu.users.map((user) => user.id);
		const items = ids.map((id) => ({ id }));
		const result = await run(credentials, 'oAuth2', items, {
			operation: 'get',
			userId: '={{ $json.id }}',
			options: { maxRetries: 10, maxRetryWaitSeconds: 1 },
		});
		expect(result.error).toBeUndefined();
		expect(emu.log.filter((entry) => entry.fault).length).toBeGreaterThan(5);
		expect(result.output('Presence').map((item) => item.json.id)).toEqual(ids);
	});
});
