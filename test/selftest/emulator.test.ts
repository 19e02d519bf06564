import {
	X509Certificate,
	constants,
	createHash,
	generateKeyPairSync,
	randomUUID,
	sign,
} from 'node:crypto';
import {
	ConfidentialClientApplication,
	type INetworkModule,
	type NetworkResponse,
} from '@azure/msal-node';
import { generate } from 'selfsigned';
import { asArray, asRecord, str } from '../shared/json';
import {
	CLIENT,
	emulatorClient,
	graphError,
	registerClient,
	SCOPE,
	SECRET,
	TENANT,
	type Reply,
} from '../shared/emulatorClient';
import { GraphEmulator } from '../emulator';

function b64url(value: unknown): string {
	return Buffer.from(JSON.stringify(value)).toString('base64url');
}

interface AssertionOptions {
	privateKeyPem: string;
	certPem: string;
	alg: 'RS256' | 'PS256';
	thumbprintHeader: 'x5t' | 'x5t#S256';
	aud: string;
	clientId?: string;
	exp?: number;
}

/** A client assertion shaped like @azure/msal-node's, built with nothing but node:crypto. */
function buildAssertion(o: AssertionOptions): string {
	const der = new X509Certificate(o.certPem).raw;
	const thumbprint = createHash(o.thumbprintHeader === 'x5t' ? 'sha1' : 'sha256')
		.update(der)
		.digest('base64url');
	const now = Math.floor(Date.now() / 1000);
	const input = `${b64url({ alg: o.alg, typ: 'JWT', [o.thumbprintHeader]: thumbprint })}.${b64url({
		aud: o.aud,
		iss: o.clientId ?? CLIENT,
		sub: o.clientId ?? CLIENT,
		exp: o.exp ?? now + 600,
		nbf: now,
		jti: randomUUID(),
	})}`;
	const key =
		o.alg === 'PS256'
			? {
					key: o.privateKeyPem,
					padding: constants.RSA_PKCS1_PSS_PADDING,
					saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
				}
			: { key: o.privateKeyPem };
	return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

let emu: GraphEmulator;
const { graph, tokenRequest, appToken, signIn } = emulatorClient(() => emu);

beforeEach(async () => {
	emu = await GraphEmulator.start({ seed: 42 });
	emu.addUsers(30);
	registerClient(emu);
});

afterEach(async () => {
	await emu.stop();
});

describe('users', () => {
	it('are deterministic per seed and shaped like Graph', async () => {
		const other = await GraphEmulator.start({ seed: 42 });
		try {
			other.addUsers(10);
			other.addUsers(20);
			expect(other.users.map((u) => u.id)).toEqual(emu.users.map((u) => u.id));
		} finally {
			await other.stop();
		}
		const u = emu.users[2];
		expect(u.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(u).toMatchObject({
			userPrincipalName: 'user3@contoso.test',
			mail: 'user3@contoso.test',
			displayName: 'User 3',
		});
		expect(u.presence).toMatchObject({
			id: u.id,
			outOfOfficeSettings: { message: null, isOutOfOffice: false },
		});
		expect(emu.getUser('USER3@Contoso.Test')).toBe(u);
		expect(emu.getUser(u.id.toUpperCase())).toBe(u);
	});

	it('setPresence advances a sortable sequenceNumber', () => {
		const u = emu.users[0];
		const before = u.presence.sequenceNumber;
		const after = emu.setPresence(u.id, { availability: 'Busy', activity: 'InACall' });
		expect(after).toMatchObject({ availability: 'Busy', activity: 'InACall' });
		expect(after.sequenceNumber > before).toBe(true);
		const again = emu.setPresence(u.userPrincipalName, {
			availability: 'Available',
			activity: 'Available',
		});
		expect(again.sequenceNumber > after.sequenceNumber).toBe(true);
	});
});

describe('token endpoint', () => {
	it('issues an opaque app token for the right secret', async () => {
		const res = await tokenRequest({
			grant_type: 'client_credentials',
			client_id: CLIENT,
			client_secret: SECRET,
			scope: SCOPE,
		});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({
			token_type: 'Bearer',
			expires_in: 3599,
			ext_expires_in: 3599,
			scope: SCOPE,
		});
		const token = str(res.body.access_token);
		expect(token).toMatch(/^emu-at-[0-9a-f]+$/);
		expect(token).not.toContain(SECRET);
		expect(res.body.refresh_token).toBeUndefined();
		expect(emu.tokensIssued).toContain(token);
		expect(emu.tokenRecord(token)).toMatchObject({
			kind: 'app',
			tenantId: TENANT,
			clientId: CLIENT,
		});
	});

	it('rejects a wrong secret, unknown tenant, unknown client and a non-.default scope like Entra', async () => {
		const wrong = await tokenRequest({
			grant_type: 'client_credentials',
			client_id: CLIENT,
			client_secret: 'nope',
			scope: SCOPE,
		});
		expect(wrong.status).toBe(401);
		expect(wrong.body.error).toBe('invalid_client');
		expect(
			str(wrong.body.error_description).startsWith(
				'AADSTS7000215: Invalid client secret provided.',
			),
		).toBe(true);
		expect(JSON.stringify(wrong.body)).not.toContain('nope');

		const tenant = await tokenRequest(
			{ grant_type: 'client_credentials', client_id: CLIENT, client_secret: SECRET, scope: SCOPE },
			{},
			'no-such-tenant',
		);
		expect(tenant.status).toBe(400);
		expect(tenant.body).toMatchObject({ error: 'invalid_request', error_codes: [90002] });

		const client = await tokenRequest({
			grant_type: 'client_credentials',
			client_id: randomUUID(),
			client_secret: SECRET,
			scope: SCOPE,
		});
		expect(client.status).toBe(400);
		expect(client.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });

		const scope = await tokenRequest({
			grant_type: 'client_credentials',
			client_id: CLIENT,
			client_secret: SECRET,
			scope: 'Presence.Read.All',
		});
		expect(scope.status).toBe(400);
		expect(scope.body.error).toBe('invalid_scope');
	});

	describe('certificate assertions', () => {
		let privateKeyPem: string;
		let certPem: string;
		const certClient = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';

		beforeAll(async () => {
			const pems = await generate([{ name: 'commonName', value: 'graph-emulator-test' }], {
				keySize: 2048,
				algorithm: 'sha256',
			});
			privateKeyPem = pems.private;
			certPem = pems.cert;
		});

		beforeEach(() => {
			emu.registerApp({ tenantId: TENANT, clientId: certClient, certificatePem: certPem });
		});

		const aud = (): string => `${emu.loginBaseUrl}/${TENANT}/oauth2/v2.0/token`;
		const request = (assertion: string): Promise<Reply> =>
			tokenRequest({
				grant_type: 'client_credentials',
				client_id: certClient,
				client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
				client_assertion: assertion,
				scope: SCOPE,
			});

		it.each([
			['RS256', 'x5t'],
			['PS256', 'x5t#S256'],
		] as const)('accepts a valid %s assertion named by %s', async (alg, thumbprintHeader) => {
			const res = await request(
				buildAssertion({
					privateKeyPem,
					certPem,
					alg,
					thumbprintHeader,
					aud: aud(),
					clientId: certClient,
				}),
			);
			expect(res.status).toBe(200);
			expect(emu.tokenRecord(str(res.body.access_token))).toMatchObject({
				kind: 'app',
				clientId: certClient,
			});
		});

		it('rejects tampered, expired, wrongly signed and wrong-audience assertions', async () => {
			// These assertions are issued for CLIENT; register the cert there too so only the defect under test fails.
			emu.registerApp({ tenantId: TENANT, clientId: CLIENT, certificatePem: certPem });
			const good = buildAssertion({
				privateKeyPem,
				certPem,
				alg: 'PS256',
				thumbprintHeader: 'x5t#S256',
				aud: aud(),
			});
			const send = (assertion: string): Promise<Reply> =>
				tokenRequest({
					grant_type: 'client_credentials',
					client_id: CLIENT,
					client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
					client_assertion: assertion,
					scope: SCOPE,
				});
			expect((await send(good)).status).toBe(200);

			const [h, p, s] = good.split('.');
			const payload = asRecord(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
			const tampered = `${h}.${b64url({ ...payload, exp: Number(payload.exp) + 3600 })}.${s}`;
			const tamperedRes = await send(tampered);
			expect(tamperedRes.status).toBe(401);
			expect(tamperedRes.body).toMatchObject({ error: 'invalid_client', error_codes: [700027] });

			const expired = await send(
				buildAssertion({
					privateKeyPem,
					certPem,
					alg: 'RS256',
					thumbprintHeader: 'x5t',
					aud: aud(),
					exp: Math.floor(Date.now() / 1000) - 10,
				}),
			);
			expect(expired.status).toBe(401);
			expect(expired.body.error_codes).toEqual([700024]);

			const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
				.privateKey.export({ type: 'pkcs8', format: 'pem' })
				.toString();
			const forged = await send(
				buildAssertion({
					privateKeyPem: otherKey,
					certPem,
					alg: 'RS256',
					thumbprintHeader: 'x5t',
					aud: aud(),
				}),
			);
			expect(forged.status).toBe(401);
			expect(forged.body.error).toBe('invalid_client');

			const wrongAud = await send(
				buildAssertion({
					privateKeyPem,
					certPem,
					alg: 'RS256',
					thumbprintHeader: 'x5t',
					aud: `${emu.loginBaseUrl}/other-tenant/oauth2/v2.0/token`,
				}),
			);
			expect(wrongAud.status).toBe(401);
		});

		it('accepts what @azure/msal-node sends (certificate and secret), through a custom network client', async () => {
			// msal-node insists on https authorities; map a made-up https host onto the emulator.
			const fakeAuthority = 'https://login.emulator.test';
			const toEmu = (url: string): string => url.replace(fakeAuthority, emu.loginBaseUrl);
			const send = async <T>(
				url: string,
				method: string,
				body?: string,
				headers?: Record<string, string>,
			): Promise<NetworkResponse<T>> => {
				const res = await fetch(toEmu(url), { method, body, headers });
				const out: Record<string, string> = {};
				res.headers.forEach((v, k) => {
					out[k] = v;
				});
				return { status: res.status, headers: out, body: (await res.json()) as T };
			};
			const networkClient: INetworkModule = {
				sendGetRequestAsync: (url, options) => send(url, 'GET', undefined, options?.headers),
				sendPostRequestAsync: (url, options) => send(url, 'POST', options?.body, options?.headers),
			};
			const base = `${fakeAuthority}/${TENANT}`;
			const authorityMetadata = JSON.stringify({
				token_endpoint: `${base}/oauth2/v2.0/token`,
				authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
				issuer: `${base}/v2.0`,
				jwks_uri: `${base}/discovery/v2.0/keys`,
				end_session_endpoint: `${base}/oauth2/v2.0/logout`,
			});
			const common = {
				authority: base,
				knownAuthorities: ['login.emulator.test'],
				authorityMetadata,
			};
			const thumbprintSha256 = createHash('sha256')
				.update(new X509Certificate(certPem).raw)
				.digest('hex');
			const byCert = new ConfidentialClientApplication({
				auth: {
					...common,
					clientId: certClient,
					clientCertificate: { thumbprintSha256, privateKey: privateKeyPem },
				},
				system: { networkClient },
			});
			const bySecret = new ConfidentialClientApplication({
				auth: { ...common, clientId: CLIENT, clientSecret: SECRET },
				system: { networkClient },
			});
			for (const app of [byCert, bySecret]) {
				const result = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
				expect(result?.accessToken).toMatch(/^emu-at-/);
				expect(
					(await graph(result?.accessToken, `/v1.0/users/${emu.users[0].id}/presence`)).status,
				).toBe(200);
			}
		});
	});

	it('runs the authorization-code flow and refreshes delegated tokens (Basic or body client auth)', async () => {
		const redirectUri = 'http://127.0.0.1:1/oauth2-callback';
		const authorize = await fetch(
			`${emu.loginBaseUrl}/common/oauth2/v2.0/authorize?${new URLSearchParams({
				client_id: CLIENT,
				response_type: 'code',
				redirect_uri: redirectUri,
				scope: 'openid offline_access Presence.Read.All',
				state: 'xyz',
			}).toString()}`,
			{ redirect: 'manual' },
		);
		expect(authorize.status).toBe(302);
		const location = new URL(str(authorize.headers.get('location')));
		expect(location.origin + location.pathname).toBe(redirectUri);
		expect(location.searchParams.get('state')).toBe('xyz');
		const code = str(location.searchParams.get('code'));

		const basic = `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString('base64')}`;
		const first = await tokenRequest(
			{ grant_type: 'authorization_code', code, redirect_uri: redirectUri },
			{ Authorization: basic },
			'common',
		);
		expect(first.status).toBe(200);
		const access = str(first.body.access_token);
		const refresh = str(first.body.refresh_token);
		expect(emu.tokenRecord(access)).toMatchObject({
			kind: 'delegated',
			userId: emu.meUserId,
			clientId: CLIENT,
		});
		expect(emu.tokensIssued).toEqual(expect.arrayContaining([access, refresh]));

		const replay = await tokenRequest(
			{ grant_type: 'authorization_code', code, redirect_uri: redirectUri },
			{ Authorization: basic },
			'common',
		);
		expect(replay.status).toBe(400);
		expect(replay.body.error).toBe('invalid_grant');

		const refreshed = await tokenRequest({
			grant_type: 'refresh_token',
			refresh_token: refresh,
			client_id: CLIENT,
			client_secret: SECRET,
		});
		expect(refreshed.status).toBe(200);
		expect(refreshed.body.access_token).not.toBe(access);
		expect(typeof refreshed.body.refresh_token).toBe('string');

		const badSecret = await tokenRequest({
			grant_type: 'refresh_token',
			refresh_token: refresh,
			client_id: CLIENT,
			client_secret: 'x',
		});
		expect(badSecret.status).toBe(401);
	});
});

describe('authentication on Graph routes', () => {
	it('answers 401 InvalidAuthenticationToken without a token, with an unknown one, and after expireAllTokens', async () => {
		const path = `/v1.0/users/${emu.users[0].id}/presence`;
		const none = await graph(undefined, path);
		expect(none.status).toBe(401);
		expect(graphError(none).code).toBe('InvalidAuthenticationToken');
		expect(none.headers.get('www-authenticate')).toContain('Bearer');
		const inner = asRecord(asRecord(none.body.error).innerError);
		expect(inner['request-id']).toBe(none.headers.get('request-id'));
		expect(str(inner['request-id'])).toMatch(/^[0-9a-f-]{36}$/);

		expect((await graph('emu-at-bogus', path)).status).toBe(401);

		const token = await appToken();
		const { access, refresh } = await signIn();
		expect((await graph(token, path)).status).toBe(200);
		emu.expireAllTokens();
		const expired = await graph(token, path);
		expect(expired.status).toBe(401);
		expect(asRecord(expired.body.error).message).toMatch(/expired/);
		expect((await graph(access, '/v1.0/me/presence')).status).toBe(401);

		// Refresh tokens survive, and so do tokens issued afterwards.
		const refreshed = await tokenRequest({
			grant_type: 'refresh_token',
			refresh_token: refresh,
			client_id: CLIENT,
			client_secret: SECRET,
		});
		expect((await graph(str(refreshed.body.access_token), '/v1.0/me/presence')).status).toBe(200);
		expect((await graph(await appToken(), path)).status).toBe(200);
	});

	it('echoes client-request-id', async () => {
		const res = await graph(undefined, '/v1.0/me/presence', {
			headers: { 'client-request-id': 'abc-123' },
		});
		expect(res.headers.get('client-request-id')).toBe('abc-123');
		expect(asRecord(asRecord(res.body.error).innerError)['client-request-id']).toBe('abc-123');
	});
});

describe('presence routes', () => {
	it('serves /me/presence for delegated tokens only', async () => {
		const { access } = await signIn();
		const me = await graph(access, '/beta/me/presence');
		expect(me.status).toBe(200);
		expect(me.body.id).toBe(emu.meUserId);
		expect(me.body['@odata.context']).toContain('/beta/$metadata#');

		const app = await graph(await appToken(), '/v1.0/me/presence');
		expect(app.status).toBe(400);
		expect(graphError(app).code).toBe('BadRequest');
		expect(asRecord(app.body.error).message).toBe(
			'/me request is only valid with delegated authentication flow.',
		);
	});

	it('serves single presences by id, 404 for unknown, 400 for a non-GUID', async () => {
		const token = await appToken();
		const u = emu.users[4];
		for (const path of [
			`/v1.0/users/${u.id.toUpperCase()}/presence`,
			`/v1.0/communications/presences/${u.id}`,
		]) {
			const res = await graph(token, path);
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({
				id: u.id,
				availability: u.presence.availability,
				activity: u.presence.activity,
				sequenceNumber: u.presence.sequenceNumber,
				workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
			});
			expect(typeof res.body['@odata.context']).toBe('string');
		}
		expect((await graph(token, `/v1.0/users/${randomUUID()}/presence`)).status).toBe(404);
		expect((await graph(token, `/v1.0/users/${u.userPrincipalName}/presence`)).status).toBe(400);
	});

	it('getPresencesByUserId: 650 max, GUIDs only, unknown omitted, de-duplicated, shuffled, case-insensitive', async () => {
		const token = await appToken();
		const path = '/v1.0/communications/getPresencesByUserId';
		const tooMany = await graph(token, path, {
			body: { ids: Array.from({ length: 651 }, () => randomUUID()) },
		});
		expect(tooMany.status).toBe(400);
		expect(graphError(tooMany).code).toBe('BadRequest');
		expect(
			(
				await graph(token, path, {
					body: { ids: Array.from({ length: 650 }, () => randomUUID()) },
				})
			).status,
		).toBe(200);
		expect(
			(await graph(token, path, { body: { ids: [emu.users[0].id, 'user1@contoso.test'] } })).status,
		).toBe(400);

		const ids = emu.users.map((u) => u.id);
		const unknown = randomUUID();
		const requested = [
			...ids.map((id, i) => (i % 2 === 0 ? id.toUpperCase() : id)),
			unknown,
			ids[3],
		];
		const res = await graph(token, path, { body: { ids: requested } });
		expect(res.status).toBe(200);
		const value = asArray(res.body.value).map(asRecord);
		const returned = value.map((p) => str(p.id));
		expect(returned).toHaveLength(ids.length);
		expect(new Set(returned)).toEqual(new Set(ids));
		expect(returned).not.toEqual(ids);
		expect(value.every((p) => p['@odata.type'] === '#microsoft.graph.presence')).toBe(true);
	});

	it('GET /users/{upn} with $select resolves ids; unknown is Request_ResourceNotFound', async () => {
		const token = await appToken();
		const u = emu.users[7];
		const res = await graph(
			token,
			`/v1.0/users/${encodeURIComponent('USER8@contoso.test')}?$select=id,userPrincipalName`,
		);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: u.id, userPrincipalName: 'user8@contoso.test' });
		expect(res.body.displayName).toBeUndefined();
		const full = await graph(token, `/v1.0/users/${u.id}`);
		expect(full.body).toMatchObject({
			id: u.id,
			displayName: 'User 8',
			mail: 'user8@contoso.test',
		});
		const missing = await graph(token, '/v1.0/users/nobody@contoso.test?$select=id');
		expect(missing.status).toBe(404);
		expect(graphError(missing).code).toBe('Request_ResourceNotFound');
	});
});

describe('$batch', () => {
	it('rejects more than 20 requests and answers a mix by id', async () => {
		const token = await appToken();
		const many = Array.from({ length: 21 }, (_, i) => ({
			id: String(i),
			method: 'GET',
			url: `/users/user${i + 1}@contoso.test?$select=id`,
		}));
		expect((await graph(token, '/v1.0/$batch', { body: { requests: many } })).status).toBe(400);

		const requests = [
			{ id: 'a', method: 'GET', url: '/users/user1@contoso.test?$select=id' },
			{ id: 'b', method: 'GET', url: 'users/ghost@contoso.test?$select=id' },
			{
				id: 'c',
				method: 'POST',
				url: '/communications/getPresencesByUserId',
				headers: { 'Content-Type': 'application/json' },
				body: { ids: [emu.users[1].id] },
			},
		];
		const res = await graph(token, '/v1.0/$batch', { body: { requests } });
		expect(res.status).toBe(200);
		const byId = new Map(
			asArray(res.body.responses).map((r) => [str(asRecord(r).id), asRecord(r)]),
		);
		expect(byId.get('a')).toMatchObject({ status: 200, body: { id: emu.users[0].id } });
		expect(byId.get('b')).toMatchObject({
			status: 404,
			body: { error: { code: 'Request_ResourceNotFound' } },
		});
		expect(asArray(asRecord(byId.get('c')?.body).value)).toHaveLength(1);
		const subs = emu.requests().filter((e) => e.batchSubRequest === true);
		expect(subs.map((e) => e.path).sort()).toEqual([
			'/v1.0/communications/getPresencesByUserId',
			'/v1.0/users/ghost@contoso.test',
			'/v1.0/users/user1@contoso.test',
		]);
		expect(subs[0].query).toEqual({ $select: 'id' });
	});
});

describe('throttling', () => {
	it('answers 429 with Retry-After in seconds or as an HTTP date, per tenant + client, sliding window', async () => {
		emu.throttle = { limit: 3, windowMs: 1500 };
		const token = await appToken();
		const path = `/v1.0/users/${emu.users[0].id}/presence`;
		for (let i = 0; i < 3; i++) expect((await graph(token, path)).status).toBe(200);

		const seconds = await graph(token, path);
		expect(seconds.status).toBe(429);
		expect(graphError(seconds).code).toBe('TooManyRequests');
		expect(Number(seconds.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(Number(seconds.headers.get('retry-after'))).toBeLessThanOrEqual(2);

		emu.retryAfterFormat = 'date';
		const dated = await graph(token, path);
		expect(dated.status).toBe(429);
		const when = Date.parse(str(dated.headers.get('retry-after')));
		expect(when).toBeGreaterThan(Date.now());
		expect(when - Date.now()).toBeLessThanOrEqual(2500);

		// Another app in the same tenant has its own budget; login requests are not counted.
		emu.registerApp({ tenantId: TENANT, clientId: 'other-client', clientSecret: 'other' });
		expect((await graph(await appToken('other-client', 'other'), path)).status).toBe(200);

		// A throttled $batch sub-request carries its own 429 and Retry-After.
		emu.retryAfterFormat = 'alternate';
		const batch = await graph(token, '/v1.0/$batch', {
			body: {
				requests: [
					{ id: '1', method: 'GET', url: `/users/${emu.users[0].id}/presence` },
					{ id: '2', method: 'GET', url: `/users/${emu.users[1].id}/presence` },
				],
			},
		});
		expect(batch.status).toBe(200);
		const subs = asArray(batch.body.responses).map(asRecord);
		expect(subs.map((s) => s.status)).toEqual([429, 429]);
		const forms = subs.map((s) => str(asRecord(s.headers)['Retry-After']));
		expect(forms.some((f) => /^\d+$/.test(f))).toBe(true);
		expect(forms.some((f) => f.endsWith('GMT'))).toBe(true);
		expect(emu.stats.throttled).toBe(4);

		await new Promise((resolve) => setTimeout(resolve, 1600));
		expect((await graph(token, path)).status).toBe(200);

		emu.throttle = false;
		for (let i = 0; i < 10; i++) expect((await graph(token, path)).status).toBe(200);
	});
});

describe('fault injection', () => {
	it('honours rates roughly, and injected 429/503 carry Retry-After', async () => {
		emu.throttle = false;
		const token = await appToken();
		emu.faults = { rate429: 0.2, rate503: 0.2, rate504: 0.1, retryAfterSeconds: 2 };
		const n = 400;
		const statuses: number[] = [];
		for (let i = 0; i < n; i++) {
			const res = await fetch(`${emu.url}/v1.0/users/${emu.users[0].id}/presence`, {
				headers: { Authorization: `Bearer ${token}` },
			});
			await res.arrayBuffer();
			statuses.push(res.status);
			if (res.status === 429 || res.status === 503)
				expect(res.headers.get('retry-after')).toBe('2');
		}
		const share = (s: number): number => statuses.filter((x) => x === s).length / n;
		expect(share(429)).toBeGreaterThan(0.13);
		expect(share(429)).toBeLessThan(0.27);
		expect(share(503)).toBeGreaterThan(0.13);
		expect(share(503)).toBeLessThan(0.27);
		expect(share(504)).toBeGreaterThan(0.05);
		expect(share(504)).toBeLessThan(0.15);
		expect(share(200)).toBeGreaterThan(0.4);
		expect(emu.stats.faults['429']).toBe(statuses.filter((x) => x === 429).length);
	});

	it('resets sockets, sends malformed JSON and truncated bodies', async () => {
		emu.throttle = false;
		const token = await appToken();
		const url = `${emu.url}/v1.0/users/${emu.users[0].id}/presence`;
		const init = { headers: { Authorization: `Bearer ${token}` } };

		emu.faults = { rateReset: 1 };
		await expect(fetch(url, init)).rejects.toThrow();

		emu.faults = { rateMalformedJson: 1 };
		const malformed = await fetch(url, init);
		expect(malformed.status).toBe(200);
		await expect(malformed.json()).rejects.toThrow();

		emu.faults = { rateTruncated: 1 };
		const truncated = await fetch(url, init);
		expect(truncated.status).toBe(200);
		await expect(truncated.text()).rejects.toThrow();

		emu.faults = { rateSlow: 1, slowMs: 150 };
		const started = Date.now();
		expect((await fetch(url, init)).status).toBe(200);
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);

		emu.faults = { rateReset: 0.3, rateMalformedJson: 0.3 };
		let resets = 0;
		let malformedCount = 0;
		for (let i = 0; i < 200; i++) {
			try {
				const res = await fetch(url, init);
				await res.json();
			} catch (err: unknown) {
				// fetch's errors come from Node's realm, not jest's, so instanceof would be false: compare names.
				const name =
					typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
				if (name === 'SyntaxError') malformedCount += 1;
				else resets += 1;
			}
		}
		expect(resets / 200).toBeGreaterThan(0.2);
		expect(resets / 200).toBeLessThan(0.4);
		expect(malformedCount / 200).toBeGreaterThan(0.2);
		expect(malformedCount / 200).toBeLessThan(0.4);
		expect(emu.stats.faults.reset).toBe(resets + 1);
		expect(emu.requests('/presence').filter((e) => e.status === 0)).toHaveLength(resets + 1);

		expect(() => {
			emu.faults = { rate429: 0.7, rate503: 0.7 };
		}).toThrow(RangeError);
	});
});

describe('request log', () => {
	it('records requests and redacts credentials', async () => {
		const token = await appToken();
		const { access, refresh } = await signIn();
		await graph(token, `/v1.0/users/${emu.users[0].id}/presence?x=1`);
		await graph(access, '/v1.0/me/presence');

		const presence = emu.requests('/users/');
		expect(presence).toHaveLength(1);
		expect(presence[0]).toMatchObject({
			method: 'GET',
			status: 200,
			tokenKind: 'app',
			clientId: CLIENT,
			query: { x: '1' },
		});
		expect(presence[0].headers.authorization).toBe('Bearer <redacted>');
		expect(emu.requests('/oauth2/v2.0/token').length).toBeGreaterThanOrEqual(2);

		const dump = JSON.stringify(emu.log);
		for (const secret of [token, access, refresh, SECRET]) expect(dump).not.toContain(secret);
		expect(emu.stats.total).toBe(emu.log.length);

		emu.clearLog();
		expect(emu.log).toHaveLength(0);
		expect(emu.stats.total).toBe(0);
	});
});
