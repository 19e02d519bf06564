import {
	X509Certificate,
	constants,
	createDecipheriv,
	createHmac,
	createPublicKey,
	privateDecrypt,
	randomUUID,
	verify,
	type JsonWebKey,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { generate } from 'selfsigned';
import { asArray, asRecord, str } from '../shared/json';
import {
	call,
	CLIENT,
	emulatorClient,
	graphError,
	registerClient,
	SECRET,
	TENANT,
} from '../shared/emulatorClient';
import { GraphEmulator, type Delivery } from '../emulator';

const OTHER_CLIENT = '7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f';
const MINUTE = 60_000;
const CLIENT_STATE = 'secret-client-state~42';

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
	const until = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the webhook receiver the emulator calls ----

interface Received {
	path: string;
	/** The query exactly as sent (still encoded). */
	rawQuery: string;
	validationToken: string | null;
	contentType: string | undefined;
	text: string;
	body: unknown;
	at: number;
}

type ValidationMode = 'echo' | 'wrong' | 'undecoded' | 'json' | 'accepted' | 'slow';

interface NotificationAnswer {
	status: number;
	delayMs?: number;
	/** Never answer (until the receiver closes). */
	hang?: boolean;
}

class Receiver {
	readonly requests: Received[] = [];
	/** By path; the default for paths not listed is 'echo'. */
	validation: Record<string, ValidationMode> = {};
	/** Answers the n-th (0-based) notification or lifecycle POST. */
	answer: (n: number) => NotificationAnswer = () => ({ status: 202 });
	private notificationCount = 0;
	private readonly timers = new Set<NodeJS.Timeout>();

	private constructor(
		private readonly server: Server,
		readonly url: string,
	) {}

	static async start(tls?: { key: string; cert: string }): Promise<Receiver> {
		const server =
			tls === undefined ? createServer() : createHttpsServer({ key: tls.key, cert: tls.cert });
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const address = server.address();
		if (address === null || typeof address === 'string') throw new Error('no port');
		const receiver = new Receiver(
			server,
			`${tls === undefined ? 'http' : 'https'}://127.0.0.1:${address.port}`,
		);
		server.on('request', (req: IncomingMessage, res: ServerResponse) => receiver.handle(req, res));
		return receiver;
	}

	notifications(path?: string): Received[] {
		return this.requests.filter(
			(r) => r.validationToken === null && (path === undefined || r.path === path),
		);
	}

	validations(): Received[] {
		return this.requests.filter((r) => r.validationToken !== null);
	}

	/** The `value` entries of every notification POST so far, in arrival order. */
	entries(path?: string): Array<Record<string, unknown>> {
		return this.notifications(path).flatMap((r) => asArray(asRecord(r.body).value).map(asRecord));
	}

	async close(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}

	private handle(req: IncomingMessage, res: ServerResponse): void {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const url = new URL(req.url ?? '/', this.url);
			const text = Buffer.concat(chunks).toString('utf8');
			const received: Received = {
				path: url.pathname,
				rawQuery: url.search,
				validationToken: url.searchParams.get('validationToken'),
				contentType: req.headers['content-type'],
				text,
				body: text === '' ? undefined : (JSON.parse(text) as unknown),
				at: Date.now(),
			};
			this.requests.push(received);
			if (received.validationToken !== null) this.validate(received, res);
			else this.notify(res);
		});
	}

	private validate(received: Received, res: ServerResponse): void {
		const token = received.validationToken ?? '';
		const plain = { 'Content-Type': 'text/plain; charset=utf-8' };
		switch (this.validation[received.path] ?? 'echo') {
			case 'echo':
				res.writeHead(200, plain).end(token);
				return;
			case 'wrong':
				res.writeHead(200, plain).end(`${token}x`);
				return;
			case 'undecoded':
				res.writeHead(200, plain).end(/validationToken=([^&]*)/.exec(received.rawQuery)?.[1] ?? '');
				return;
			case 'json':
				res.writeHead(200, { 'Content-Type': 'application/json' }).end(token);
				return;
			case 'accepted':
				res.writeHead(202, plain).end(token);
				return;
			case 'slow':
				this.later(1000, () => res.writeHead(200, plain).end(token));
				return;
		}
	}

	private notify(res: ServerResponse): void {
		const answer = this.answer(this.notificationCount++);
		if (answer.hang === true) return;
		this.later(answer.delayMs ?? 0, () => res.writeHead(answer.status).end());
	}

	private later(ms: number, run: () => void): void {
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			run();
		}, ms);
		this.timers.add(timer);
	}
}

// ---- Graph calls ----

let emu: GraphEmulator;
let receiver: Receiver;
let me: string;
let app: string;
const { graph, post, appToken, signIn } = emulatorClient(() => emu);

const inMinutes = (minutes: number): string => new Date(emu.now + minutes * MINUTE).toISOString();
const filterOf = (ids: string[]): string =>
	`/communications/presences?$filter=id in (${ids.map((id) => `'${id}'`).join(',')})`;

/** The certificate every presence subscription must carry (subscription-post-subscriptions). */
let basicCertificate = '';
beforeAll(async () => {
	const pems = await generate([{ name: 'commonName', value: 'basic' }], { keySize: 2048 });
	basicCertificate = new X509Certificate(pems.cert).raw.toString('base64');
});

function subscriptionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		changeType: 'updated',
		notificationUrl: `${receiver.url}/notify`,
		resource: filterOf([emu.users[1].id, emu.users[2].id]),
		expirationDateTime: inMinutes(30),
		clientState: CLIENT_STATE,
		encryptionCertificate: basicCertificate,
		encryptionCertificateId: 'basic-1',
		...overrides,
	};
}

/** The resource as the emulator echoes it: not as sent (no slash, lower case, ", " between ids). */
const echoOf = (ids: string[]): string =>
	`communications/presences?$filter=id in (${ids.map((id) => `'${id.toLowerCase()}'`).join(', ')})`;

async function subscribe(
	overrides: Record<string, unknown> = {},
	token = me,
): Promise<Record<string, unknown>> {
	const res = await post(token, '/v1.0/subscriptions', subscriptionBody(overrides));
	if (res.status !== 201)
		throw new Error(`subscription not created: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

/** Graph forgets every subscription: the signed-in user may make another (one per user and app). */
function dropAll(): void {
	for (const subscription of emu.subscriptions) emu.dropSubscription(subscription.id);
}

/** A delegated token of the same app for another signed-in user. */
async function tokenOfAnotherUser(index = 5): Promise<string> {
	const signedIn = emu.meUserId;
	emu.meUserId = emu.users[index].id;
	const token = (await signIn()).access;
	if (signedIn !== undefined) emu.meUserId = signedIn;
	return token;
}

function deliveries(kind: Delivery['kind']): Delivery[] {
	return emu.deliveries.filter((d) => d.kind === kind);
}

beforeEach(async () => {
	emu = await GraphEmulator.start({ seed: 11 });
	emu.addUsers(10);
	registerClient(emu);
	emu.registerApp({ tenantId: TENANT, clientId: OTHER_CLIENT, clientSecret: SECRET });
	receiver = await Receiver.start();
	me = (await signIn()).access;
	app = await appToken();
});

afterEach(async () => {
	await emu.stop();
	await receiver.close();
});

describe('POST /subscriptions', () => {
	it('validates the notification and lifecycle URLs with a handshake, then answers 201 with the subscription', async () => {
		const expiry = inMinutes(45);
		const ids = [emu.users[1].id, emu.users[2].id.toUpperCase()];
		const res = await post(me, '/v1.0/subscriptions', {
			...subscriptionBody(),
			resource: filterOf(ids),
			lifecycleNotificationUrl: `${receiver.url}/lifecycle`,
			expirationDateTime: expiry,
		});
		expect(res.status).toBe(201);
		const id = str(res.body.id);
		expect(id).toMatch(/^[0-9a-f-]{36}$/);
		expect(res.body).toEqual({
			'@odata.context': `${emu.url}/v1.0/$metadata#subscriptions/$entity`,
			id,
			resource: echoOf(ids),
			applicationId: CLIENT,
			changeType: 'updated',
			clientState: CLIENT_STATE,
			notificationUrl: `${receiver.url}/notify`,
			lifecycleNotificationUrl: `${receiver.url}/lifecycle`,
			expirationDateTime: expiry,
			creatorId: emu.meUserId,
			includeResourceData: false,
			latestSupportedTlsVersion: 'v1_2',
			encryptionCertificateId: 'basic-1',
		});

		// One handshake per URL: POST, text/plain, empty body, a form-encoded token with spaces and colons.
		const validations = receiver.validations();
		expect(validations.map((v) => v.path)).toEqual(['/notify', '/lifecycle']);
		for (const v of validations) {
			expect(v.contentType).toMatch(/^text\/plain/);
			expect(v.text).toBe('');
			expect(v.rawQuery).toMatch(/^\?validationToken=Validation%3a\+Testing\+/);
			expect(v.validationToken).toMatch(
				/^Validation: Testing client application reachability for subscription Request-Id: [0-9a-f-]{36}$/,
			);
		}
		expect(validations[0].validationToken).not.toBe(validations[1].validationToken);
		expect(deliveries('validation')).toEqual([
			expect.objectContaining({
				subscriptionId: id,
				status: 200,
				attempt: 1,
				url: expect.stringContaining(`${receiver.url}/notify?validationToken=`),
			}),
			expect.objectContaining({
				subscriptionId: id,
				status: 200,
				attempt: 1,
				url: expect.stringContaining(`${receiver.url}/lifecycle?validationToken=`),
			}),
		]);

		expect(emu.subscriptions).toEqual([
			expect.objectContaining({
				id,
				tenantId: TENANT,
				userIds: [emu.users[1].id, emu.users[2].id],
			}),
		]);
		const viaBeta = await graph(me, `/beta/subscriptions/${id}`);
		expect(viaBeta.status).toBe(200);
		// Later reads never show the clientState (subscription-list).
		expect(viaBeta.body).toMatchObject({
			id,
			clientState: null,
			expirationDateTime: expiry,
			'@odata.context': `${emu.url}/beta/$metadata#subscriptions/$entity`,
		});
		expect(emu.requests('/subscriptions').map((e) => e.status)).toEqual([201, 200]);
	});

	it.each([
		['a different body', 'wrong', 'Response must exactly match validationToken query parameter.'],
		[
			'the still-encoded token',
			'undecoded',
			'Response must exactly match validationToken query parameter.',
		],
		[
			'the token as application/json',
			'json',
			'Response must exactly match validationToken query parameter.',
		],
		['202 instead of 200', 'accepted', 'must respond with 200 OK'],
	] as const)(
		'refuses the subscription when the receiver answers %s',
		async (_label, mode, message) => {
			receiver.validation['/notify'] = mode;
			const res = await post(me, '/v1.0/subscriptions', subscriptionBody());
			expect(res.status).toBe(400);
			expect(graphError(res).code).toBe('ValidationError');
			expect(graphError(res).message).toContain(message);
			expect(emu.subscriptions).toEqual([]);
			expect(deliveries('validation')).toEqual([
				expect.objectContaining({
					status: mode === 'accepted' ? 202 : 200,
					error: expect.any(String),
				}),
			]);
		},
	);

	it('refuses the subscription when only the lifecycle URL fails the handshake, or a receiver is too slow', async () => {
		receiver.validation['/lifecycle'] = 'wrong';
		const lifecycle = await post(
			me,
			'/v1.0/subscriptions',
			subscriptionBody({ lifecycleNotificationUrl: `${receiver.url}/lifecycle` }),
		);
		expect(lifecycle.status).toBe(400);
		expect(graphError(lifecycle)).toEqual({
			code: 'ValidationError',
			message:
				'Subscription validation request failed. Response must exactly match validationToken query parameter.',
		});
		expect(receiver.validations().map((v) => v.path)).toEqual(['/notify', '/lifecycle']);

		emu.deliveryPolicy = { validationTimeoutMs: 200 };
		receiver.validation['/slow'] = 'slow';
		const slow = await post(
			me,
			'/v1.0/subscriptions',
			subscriptionBody({ notificationUrl: `${receiver.url}/slow` }),
		);
		expect(slow.status).toBe(400);
		expect(graphError(slow)).toMatchObject({
			code: 'ValidationError',
			message: 'Subscription validation request timed out.',
		});
		expect(deliveries('validation').at(-1)).toMatchObject({
			status: 0,
			error: 'no answer within 200 ms',
		});
		expect(emu.subscriptions).toEqual([]);
	});

	it('allows at most 60 minutes (plus a minute of skew) ahead of the emulator clock, and nothing in the past', async () => {
		expect(
			(
				await post(
					me,
					'/v1.0/subscriptions',
					subscriptionBody({ expirationDateTime: inMinutes(60) }),
				)
			).status,
		).toBe(201);
		dropAll();
		expect(
			(
				await post(
					me,
					'/v1.0/subscriptions',
					subscriptionBody({ expirationDateTime: inMinutes(60.5) }),
				)
			).status,
		).toBe(201);

		const tooFar = await post(
			me,
			'/v1.0/subscriptions',
			subscriptionBody({ expirationDateTime: inMinutes(62) }),
		);
		expect(tooFar.status).toBe(400);
		expect(graphError(tooFar).message).toBe(
			'Subscription expiration can only be 60 minutes in the future.',
		);
		const past = await post(
			me,
			'/v1.0/subscriptions',
			subscriptionBody({ expirationDateTime: inMinutes(-1) }),
		);
		expect(past.status).toBe(400);
		const garbage = await post(
			me,
			'/v1.0/subscriptions',
			subscriptionBody({ expirationDateTime: 'tomorrow' }),
		);
		expect(garbage.status).toBe(400);

		// The rule follows the emulator's clock, not the wall clock.
		emu.advanceClock(90 * MINUTE);
		const wall = new Date(Date.now() + 30 * MINUTE).toISOString();
		expect(
			(await post(me, '/v1.0/subscriptions', subscriptionBody({ expirationDateTime: wall })))
				.status,
		).toBe(400);
		expect(
			(
				await post(
					me,
					'/v1.0/subscriptions',
					subscriptionBody({ expirationDateTime: inMinutes(59) }),
				)
			).status,
		).toBe(201);
	});

	it('takes one presence or a $filter of at most 650 quoted GUIDs, and changeType updated only', async () => {
		const many = Array.from({ length: 650 }, () => randomUUID());
		expect(
			(await post(me, '/v1.0/subscriptions', subscriptionBody({ resource: filterOf(many) })))
				.status,
		).toBe(201);
		expect(emu.subscriptions[0].userIds).toHaveLength(650);
		dropAll();
		const single = await subscribe({ resource: `/communications/presences/${emu.users[3].id}` });
		expect(single.resource).toBe(`communications/presences/${emu.users[3].id}`);
		dropAll();

		const bad: Array<[string, Record<string, unknown>]> = [
			['651 ids', { resource: filterOf([...many, randomUUID()]) }],
			[
				'unquoted ids',
				{ resource: `/communications/presences?$filter=id in (${emu.users[1].id})` },
			],
			['a UPN', { resource: filterOf([emu.users[1].userPrincipalName]) }],
			['another resource', { resource: '/users' }],
			['no resource', { resource: undefined }],
			['changeType created', { changeType: 'created' }],
			['changeType updated,deleted', { changeType: 'updated,deleted' }],
		];
		for (const [label, overrides] of bad) {
			const res = await post(me, '/v1.0/subscriptions', subscriptionBody(overrides));
			expect([label, res.status]).toEqual([label, 400]);
		}
		expect(emu.subscriptions).toHaveLength(0);
	});

	it('refuses application tokens for presence: 403, and no handshake', async () => {
		const res = await post(app, '/v1.0/subscriptions', subscriptionBody());
		expect(res.status).toBe(403);
		expect(graphError(res).message).toMatch(
			/Application permissions are not supported for presence subscriptions/,
		);
		expect(receiver.requests).toEqual([]);
		expect(emu.subscriptions).toEqual([]);
	});

	it('wants https notification URLs (http only to loopback), a clientState of at most 128 characters, and a certificate (for presence even without resource data)', async () => {
		const cases: Array<[string, Record<string, unknown>]> = [
			['http elsewhere', { notificationUrl: 'http://hooks.example.test/notify' }],
			['not a URL', { notificationUrl: 'notify-me' }],
			['ftp lifecycle', { lifecycleNotificationUrl: 'ftp://127.0.0.1/lifecycle' }],
			['129-character clientState', { clientState: 'x'.repeat(129) }],
			['basic without certificate', { encryptionCertificate: undefined }],
			['rich without certificate', { includeResourceData: true, encryptionCertificate: undefined }],
			[
				'rich without certificate id',
				{ includeResourceData: true, encryptionCertificateId: undefined },
			],
			[
				'rich with a certificate that is not one',
				{
					includeResourceData: true,
					encryptionCertificate: 'bm90IGEgY2VydA==',
					encryptionCertificateId: 'cert-1',
				},
			],
			['unknown TLS version', { latestSupportedTlsVersion: 'v9_9' }],
		];
		for (const [label, overrides] of cases) {
			const res = await post(me, '/v1.0/subscriptions', subscriptionBody(overrides));
			expect([label, res.status, graphError(res).code]).toEqual([label, 400, 'InvalidRequest']);
		}
		expect(receiver.requests).toEqual([]);
		const ok = await subscribe({ clientState: 'y'.repeat(128), latestSupportedTlsVersion: 'v1_3' });
		expect(ok).toMatchObject({ clientState: 'y'.repeat(128), latestSupportedTlsVersion: 'v1_3' });
	});

	it('validates https receivers, trusting a test CA only when told to', async () => {
		const pems = await generate([{ name: 'commonName', value: 'webhook.test' }], {
			keySize: 2048,
			algorithm: 'sha256',
			extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
		});
		const secure = await Receiver.start({ key: pems.private, cert: pems.cert });
		try {
			const untrusted = await post(
				me,
				'/v1.0/subscriptions',
				subscriptionBody({ notificationUrl: `${secure.url}/notify` }),
			);
			expect(untrusted.status).toBe(400);
			expect(graphError(untrusted).code).toBe('ValidationError');
			expect(deliveries('validation')[0]).toMatchObject({ status: 0, error: expect.any(String) });

			emu.webhookCa = pems.cert;
			const sub = await subscribe({ notificationUrl: `${secure.url}/notify` });
			emu.setPresence(emu.users[1].id, { availability: 'Away', activity: 'Away' });
			await waitFor(() => secure.notifications().length === 1, 'a notification over https');
			expect(secure.entries()[0]).toMatchObject({ subscriptionId: sub.id });
		} finally {
			await emu.stop();
			await secure.close();
		}
	});

	it('works inside $batch too', async () => {
		const res = await post(me, '/v1.0/$batch', {
			requests: [
				{
					id: '1',
					method: 'POST',
					url: '/subscriptions',
					headers: { 'Content-Type': 'application/json' },
					body: subscriptionBody(),
				},
				{ id: '2', method: 'GET', url: `/users/${emu.users[1].id}/presence` },
			],
		});
		expect(res.status).toBe(200);
		const responses = asArray(res.body.responses).map(asRecord);
		expect(responses.find((r) => r.id === '1')).toMatchObject({
			status: 201,
			body: { changeType: 'updated', clientState: CLIENT_STATE },
		});
		expect(responses.find((r) => r.id === '2')).toMatchObject({ status: 200 });
		expect(emu.subscriptions).toHaveLength(1);
	});
});

describe('PATCH, DELETE and GET /subscriptions', () => {
	it('renews within the 60-minute rule, and answers 404 once the subscription expired on the emulator clock', async () => {
		const sub = await subscribe({ expirationDateTime: inMinutes(10) });
		const id = str(sub.id);

		const renewedTo = inMinutes(60);
		const renewed = await graph(me, `/v1.0/subscriptions/${id}`, {
			method: 'PATCH',
			body: {
				expirationDateTime: renewedTo,
			},
		});
		expect(renewed.status).toBe(200);
		expect(renewed.body).toMatchObject({
			id,
			expirationDateTime: renewedTo,
			clientState: null,
		});
		expect(emu.subscriptions[0].expirationDateTime).toBe(renewedTo);

		const tooFar = await graph(me, `/v1.0/subscriptions/${id}`, {
			method: 'PATCH',
			body: {
				expirationDateTime: inMinutes(75),
			},
		});
		expect(tooFar.status).toBe(400);
		expect(graphError(tooFar).message).toBe(
			'Subscription expiration can only be 60 minutes in the future.',
		);
		const byApp = await graph(app, `/v1.0/subscriptions/${id}`, {
			method: 'PATCH',
			body: {
				expirationDateTime: inMinutes(30),
			},
		});
		expect(byApp.status).toBe(403);

		emu.advanceClock(59 * MINUTE);
		expect((await graph(me, `/v1.0/subscriptions/${id}`)).status).toBe(200);
		emu.advanceClock(2 * MINUTE);
		const gone = await graph(me, `/v1.0/subscriptions/${id}`, {
			method: 'PATCH',
			body: {
				expirationDateTime: inMinutes(30),
			},
		});
		expect(gone.status).toBe(404);
		expect(graphError(gone).code).toBe('ResourceNotFound');
		expect((await graph(me, `/v1.0/subscriptions/${id}`)).status).toBe(404);
		expect(emu.subscriptions).toEqual([]);

		// An expired subscription hears nothing.
		emu.setPresence(emu.users[1].id, { availability: 'Busy', activity: 'Busy' });
		await pause(150);
		expect(receiver.notifications()).toEqual([]);
	});

	it('deletes with 204, then answers 404', async () => {
		const id = str((await subscribe()).id);
		const deleted = await call(`${emu.url}/v1.0/subscriptions/${id}`, {
			method: 'DELETE',
			headers: { Authorization: `Bearer ${me}` },
		});
		expect(deleted.status).toBe(204);
		expect((await graph(me, `/v1.0/subscriptions/${id}`)).status).toBe(404);
		expect((await graph(me, `/v1.0/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(404);
		expect(
			(await graph(me, `/v1.0/subscriptions/${randomUUID()}`, { method: 'DELETE' })).status,
		).toBe(404);
		emu.setPresence(emu.users[1].id, { availability: 'Busy', activity: 'Busy' });
		await pause(150);
		expect(receiver.notifications()).toEqual([]);
	});

	it("lists only the calling app's subscriptions", async () => {
		const mine = await subscribe();
		const theirs = await subscribe({}, (await signIn(OTHER_CLIENT)).access);
		expect(theirs.applicationId).toBe(OTHER_CLIENT);

		const list = await graph(me, '/v1.0/subscriptions');
		expect(list.status).toBe(200);
		expect(list.body['@odata.context']).toBe(`${emu.url}/v1.0/$metadata#subscriptions`);
		expect(asArray(list.body.value).map((s) => asRecord(s).id)).toEqual([mine.id]);
		// The app's own token sees the app's subscriptions (GET and DELETE need no delegated token).
		expect(
			asArray((await graph(app, '/v1.0/subscriptions')).body.value).map((s) => asRecord(s).id),
		).toEqual([mine.id]);
		expect((await graph(me, `/v1.0/subscriptions/${str(theirs.id)}`)).status).toBe(404);
		expect(emu.subscriptions.map((s) => s.id).sort()).toEqual([mine.id, theirs.id].sort());
		expect((await graph(me, '/v1.0/subscriptions', { method: 'PUT', body: {} })).status).toBe(405);
	});

	it('one presence subscription per signed-in user and app: a second is 409; another user of the app sees only their own', async () => {
		const mine = await subscribe();
		const second = await post(
			me,
			'/v1.0/subscriptions',
			subscriptionBody({
				resource: filterOf([emu.users[7].id]),
				notificationUrl: `${receiver.url}/other`,
			}),
		);
		expect(second.status).toBe(409);
		expect(graphError(second).message).toContain('already exists for this user and application');
		// Another app's subscription for the same user is no conflict (one per unique application).
		await subscribe({}, (await signIn(OTHER_CLIENT)).access);
		const otherUser = await tokenOfAnotherUser();
		const theirs = await subscribe({ notificationUrl: `${receiver.url}/theirs` }, otherUser);
		const listed = (token: string) =>
			graph(token, '/v1.0/subscriptions').then((res) =>
				asArray(res.body.value).map((entry) => [asRecord(entry).id, asRecord(entry).clientState]),
			);
		expect(await listed(me)).toEqual([[mine.id, null]]);
		expect(await listed(otherUser)).toEqual([[theirs.id, null]]);
		expect((await graph(otherUser, `/v1.0/subscriptions/${str(mine.id)}`)).status).toBe(404);
		// The app's own token sees the app's subscriptions of every user.
		expect((await listed(app)).map(([id]) => id).sort()).toEqual([mine.id, theirs.id].sort());
		// Gone (deleted or expired), the user may subscribe again.
		await graph(me, `/v1.0/subscriptions/${str(mine.id)}`, { method: 'DELETE' });
		expect((await post(me, '/v1.0/subscriptions', subscriptionBody())).status).toBe(201);
	});
});

describe('notifications', () => {
	it('notifies covered users on every path that changes presence, with clientState and ids', async () => {
		const [, a, b, c] = emu.users;
		const sub = await subscribe({ resource: filterOf([a.id, b.id]) });
		const id = str(sub.id);

		emu.setPresence(a.id, { availability: 'Busy', activity: 'InACall' });
		emu.setPresence(c.id, { availability: 'Busy', activity: 'InACall' }); // not covered
		await waitFor(() => receiver.notifications().length === 1, 'the first notification');
		const first = receiver.notifications()[0];
		expect(first.contentType).toMatch(/^application\/json/);
		expect(first.body).toEqual({
			value: [
				{
					subscriptionId: id,
					clientState: CLIENT_STATE,
					changeType: 'updated',
					// As changenotifications-for-presence's basic example shows it.
					resource: `communications/presences/${a.id}`,
					resourceData: {
						'@odata.id': `users/${a.id}/presence`,
						'@odata.type': '#microsoft.graph.presence',
						id: a.id,
					},
					subscriptionExpirationDateTime: sub.expirationDateTime,
					tenantId: TENANT,
					organizationId: TENANT,
				},
			],
		});
		expect(first.path).toBe('/notify');

		// A write route (an app's presence session) ...
		const write = await post(app, `/v1.0/users/${b.id}/presence/setPresence`, {
			sessionId: CLIENT,
			availability: 'Away',
			activity: 'Away',
			expirationDuration: 'PT5M',
		});
		expect(write.status).toBe(200);
		await waitFor(() => receiver.entries().length === 2, 'the notification of the write');
		expect(receiver.entries()[1]).toMatchObject({ resourceData: { id: b.id } });

		// ... and its expiry, which nobody reads: the emulator notices on its own once the clock passes it.
		emu.advanceClock(6 * MINUTE);
		// advanceClock sweeps at once; the emulator's own once-a-second sweep would be too late for this wait.
		await waitFor(() => receiver.entries().length === 3, 'the notification of the expiry', 600);
		expect(receiver.entries()[2]).toMatchObject({ resourceData: { id: b.id } });
		expect(emu.presenceSessions(b.id)).toEqual([]);

		await emu.deliveriesIdle();
		expect(receiver.entries().map((e) => asRecord(e.resourceData).id)).toEqual([a.id, b.id, b.id]);
		expect(
			deliveries('notification').every((d) => d.status === 202 && d.subscriptionId === id),
		).toBe(true);
	});

	it('coalesces changes for one URL within the batch window into one POST, repeats included', async () => {
		emu.notificationBatchMs = 300;
		const [, a, b] = emu.users;
		const one = str((await subscribe({ resource: filterOf([a.id]) })).id);
		// Another signed-in user of the same app, delivering to the same URL.
		const two = str(
			(
				await subscribe(
					{ resource: filterOf([b.id]), clientState: 'second' },
					await tokenOfAnotherUser(),
				)
			).id,
		);

		emu.setPresence(a.id, { availability: 'Busy', activity: 'Busy' });
		emu.setPresence(b.id, { availability: 'Away', activity: 'Away' });
		await pause(30);
		emu.setPresence(a.id, { availability: 'Available', activity: 'Available' });
		await emu.deliveriesIdle();

		expect(receiver.notifications()).toHaveLength(1);
		const entries = receiver.entries();
		expect(
			entries.map((e) => [e.subscriptionId, asRecord(e.resourceData).id, e.clientState]),
		).toEqual([
			[one, a.id, CLIENT_STATE],
			[two, b.id, 'second'],
			[one, a.id, CLIENT_STATE],
		]);

		// A change after the window opens a new batch.
		emu.setPresence(b.id, { availability: 'Busy', activity: 'Busy' });
		await emu.deliveriesIdle();
		expect(receiver.notifications()).toHaveLength(2);
	});

	it('retries a delivery the receiver answers with 500 or too slowly, recording every attempt', async () => {
		emu.deliveryPolicy = { timeoutMs: 300, attempts: 3, retryDelayMs: 50 };
		const answers: NotificationAnswer[] = [
			{ status: 500 },
			{ status: 200, delayMs: 1000 },
			{ status: 202 },
		];
		receiver.answer = (n) => answers[n] ?? { status: 202 };
		await subscribe();
		emu.setPresence(emu.users[1].id, { availability: 'Busy', activity: 'Busy' });
		await emu.deliveriesIdle();

		const attempts = deliveries('notification');
		expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
			[1, 500],
			[2, 0],
			[3, 202],
		]);
		expect(attempts[1].error).toBe('no answer within 300 ms');
		expect(attempts[1].durationMs).toBeGreaterThanOrEqual(290);
		expect(attempts[2].time - attempts[1].time).toBeGreaterThanOrEqual(300 + 50 - 10);
		expect(new Set(attempts.map((d) => JSON.stringify(d.body))).size).toBe(1);
		expect(receiver.notifications()).toHaveLength(3);
	});

	it('gives up after the configured number of attempts', async () => {
		emu.deliveryPolicy = { attempts: 2, retryDelayMs: 10 };
		receiver.answer = () => ({ status: 503 });
		await subscribe();
		emu.setPresence(emu.users[2].id, { availability: 'Busy', activity: 'Busy' });
		await emu.deliveriesIdle();
		expect(deliveries('notification').map((d) => d.status)).toEqual([503, 503]);
		await pause(100);
		expect(receiver.notifications()).toHaveLength(2);
	});

	it('sends at most notificationBatchSize notifications a POST: a full batch goes out before its window ends', async () => {
		emu.notificationBatchMs = 1500;
		emu.notificationBatchSize = 2;
		const ids = emu.users.slice(1, 6).map((user) => user.id);
		await subscribe({ resource: filterOf(ids) });
		const started = Date.now();
		for (const id of ids) emu.setPresence(id, { availability: 'Busy', activity: 'Busy' });
		await waitFor(() => receiver.notifications().length === 2, 'the two full batches', 1000);
		expect(Date.now() - started).toBeLessThan(1000);
		expect(receiver.notifications().map((r) => asArray(asRecord(r.body).value).length)).toEqual([
			2, 2,
		]);
		// The fifth waits for its window.
		await emu.deliveriesIdle();
		expect(receiver.entries().map((e) => asRecord(e.resourceData).id)).toEqual(ids);
		expect(() => (emu.notificationBatchSize = 0)).toThrow(RangeError);
	});

	it('redelivers a share of notification POSTs, the identical body, within maxDelayMs, recorded as redeliveries', async () => {
		emu.notificationBatchSize = 1;
		emu.redelivery = { share: 0.5, maxDelayMs: 300 };
		const ids = emu.users.slice(1, 9).map((user) => user.id);
		await subscribe({ resource: filterOf(ids) });
		for (const id of ids) emu.setPresence(id, { availability: 'Away', activity: 'Away' });
		await emu.deliveriesIdle();
		const sent = deliveries('notification');
		const again = sent.filter((d) => d.redelivery === true);
		expect(sent.length - again.length).toBe(ids.length);
		// Seeded: the same runs redeliver the same POSTs; with a share of 0.5 some are and some are not.
		expect(again.length).toBeGreaterThan(0);
		expect(again.length).toBeLessThan(ids.length);
		for (const copy of again) {
			const original = sent.find(
				(d) => d.redelivery !== true && JSON.stringify(d.body) === JSON.stringify(copy.body),
			);
			expect(original).toBeDefined();
			expect(copy.time - original!.time).toBeLessThanOrEqual(300 + 100);
		}
		expect(receiver.notifications()).toHaveLength(sent.length);
		expect(() => (emu.redelivery = { share: 2, maxDelayMs: 0 })).toThrow(RangeError);
	});

	it('records every presence a read served when recordPresenceReads is on', async () => {
		await emu.stop();
		emu = await GraphEmulator.start({ seed: 11, recordPresenceReads: true });
		emu.addUsers(10);
		registerClient(emu);
		me = (await signIn()).access;
		const [, a, b] = emu.users;
		const changed = emu.setPresence(a.id, { availability: 'Busy', activity: 'InACall' });
		expect(
			(await post(me, '/v1.0/communications/getPresencesByUserId', { ids: [a.id, b.id] })).status,
		).toBe(200);
		expect((await graph(me, `/v1.0/users/${b.id}/presence`)).status).toBe(200);
		expect(
			emu.presenceReads.map((read) => [read.userId, read.sequenceNumber, read.availability]),
		).toEqual([
			[a.id.toLowerCase(), changed.sequenceNumber, 'Busy'],
			[b.id.toLowerCase(), emu.effectivePresence(b.id).sequenceNumber, b.presence.availability],
			[b.id.toLowerCase(), emu.effectivePresence(b.id).sequenceNumber, b.presence.availability],
		]);
		expect(emu.presenceReads[0].clientId).toBe(CLIENT);
	});

	describe('rich notifications', () => {
		let privateKey: string;
		let certificate: X509Certificate;

		beforeAll(async () => {
			const pems = await generate([{ name: 'commonName', value: 'presence-notifications' }], {
				keySize: 2048,
				algorithm: 'sha256',
			});
			privateKey = pems.private;
			certificate = new X509Certificate(pems.cert);
		});

		function decrypt(content: Record<string, unknown>): {
			resource: Record<string, unknown>;
			signatureValid: boolean;
		} {
			const key = privateDecrypt(
				{ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
				Buffer.from(str(content.dataKey), 'base64'),
			);
			expect(key).toHaveLength(32);
			const data = Buffer.from(str(content.data), 'base64');
			const signature = createHmac('sha256', key).update(data).digest('base64');
			const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
			const plain = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
			return {
				resource: asRecord(JSON.parse(plain)),
				signatureValid: signature === content.dataSignature,
			};
		}

		it('encrypt the presence for the certificate, sign it, and carry validation tokens; a tampered signature does not match', async () => {
			const [, a] = emu.users;
			const sub = await subscribe({
				resource: `/communications/presences/${a.id}`,
				includeResourceData: true,
				encryptionCertificate: certificate.raw.toString('base64'),
				encryptionCertificateId: 'presence-cert-1',
			});
			expect(sub).toMatchObject({
				includeResourceData: true,
				encryptionCertificateId: 'presence-cert-1',
			});

			emu.setPresence(a.id, { availability: 'Busy', activity: 'InACall' });
			await emu.deliveriesIdle();
			const payload = asRecord(receiver.notifications()[0].body);
			const [entry] = asArray(payload.value).map(asRecord);
			expect(entry).toMatchObject({
				subscriptionId: sub.id,
				clientState: CLIENT_STATE,
				resourceData: { id: a.id },
			});
			const content = asRecord(entry.encryptedContent);
			expect(content.encryptionCertificateId).toBe('presence-cert-1');
			expect(content.encryptionCertificateThumbprint).toBe(
				certificate.fingerprint.replace(/:/g, ''),
			);

			const { resource, signatureValid } = decrypt(content);
			expect(signatureValid).toBe(true);
			// changenotifications-for-presence: the decrypted content holds these five and nothing else.
			expect(resource).toEqual({
				'@odata.id': `users/${a.id}/presence`,
				'@odata.type': '#microsoft.graph.presence',
				id: a.id,
				availability: 'Busy',
				activity: 'InACall',
			});

			// One validation token per app and tenant, a JWT signed with a key the login host publishes.
			const tokens = asArray(payload.validationTokens).map(str);
			expect(tokens).toHaveLength(1);
			const [header, claims, signature] = tokens[0].split('.');
			const head = asRecord(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
			expect(head).toMatchObject({ typ: 'JWT', alg: 'RS256' });
			expect(asRecord(JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')))).toMatchObject(
				{
					aud: CLIENT,
					tid: TENANT,
					iss: `https://sts.windows.net/${TENANT}/`,
					appid: '0bf30f3b-4a52-48df-9a82-234910c4a086',
				},
			);
			const published = await call(`${emu.loginBaseUrl}/common/discovery/v2.0/keys`);
			const jwk = asArray(published.body.keys)
				.map(asRecord)
				.find((key) => key.kid === head.kid);
			expect(jwk).toBeDefined();
			const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
			expect(
				verify(
					'RSA-SHA256',
					Buffer.from(`${header}.${claims}`),
					key,
					Buffer.from(signature, 'base64url'),
				),
			).toBe(true);

			emu.tamperNextSignature();
			emu.setPresence(a.id, { availability: 'Away', activity: 'Away' });
			await emu.deliveriesIdle();
			emu.setPresence(a.id, { availability: 'Available', activity: 'Available' });
			await emu.deliveriesIdle();
			const [tampered, honest] = receiver
				.entries()
				.slice(1)
				.map((e) => decrypt(asRecord(e.encryptedContent)));
			expect(tampered).toMatchObject({ signatureValid: false, resource: { availability: 'Away' } });
			expect(honest).toMatchObject({
				signatureValid: true,
				resource: { availability: 'Available' },
			});
		});

		it('basic notifications carry no encrypted content and no validation tokens', async () => {
			await subscribe();
			emu.setPresence(emu.users[1].id, { availability: 'Busy', activity: 'Busy' });
			await emu.deliveriesIdle();
			const payload = asRecord(receiver.notifications()[0].body);
			expect(payload.validationTokens).toBeUndefined();
			expect(receiver.entries()[0].encryptedContent).toBeUndefined();
		});
	});
});

describe('lifecycle events, dropped subscriptions, stop()', () => {
	it('posts lifecycle events to the lifecycle URL (else the notification URL); subscriptionRemoved deletes', async () => {
		const withLifecycle = await subscribe({
			lifecycleNotificationUrl: `${receiver.url}/lifecycle`,
		});
		const id = str(withLifecycle.id);
		await expect(emu.sendLifecycleEvent(id, 'reauthorizationRequired')).resolves.toBe(true);
		expect(receiver.notifications('/lifecycle')[0].body).toEqual({
			value: [
				{
					subscriptionId: id,
					subscriptionExpirationDateTime: withLifecycle.expirationDateTime,
					tenantId: TENANT,
					clientState: CLIENT_STATE,
					lifecycleEvent: 'reauthorizationRequired',
				},
			],
		});
		await emu.sendLifecycleEvent(id, 'missed');
		expect(receiver.entries('/lifecycle').map((e) => e.lifecycleEvent)).toEqual([
			'reauthorizationRequired',
			'missed',
		]);
		expect(deliveries('lifecycle').map((d) => [d.subscriptionId, d.status])).toEqual([
			[id, 202],
			[id, 202],
		]);

		await emu.sendLifecycleEvent(id, 'subscriptionRemoved');
		expect((await graph(me, `/v1.0/subscriptions/${id}`)).status).toBe(404);
		expect(() => emu.sendLifecycleEvent(id, 'missed')).toThrow(/no live subscription/);

		const plain = str((await subscribe()).id);
		await emu.sendLifecycleEvent(plain, 'reauthorizationRequired');
		expect(receiver.entries('/notify')).toEqual([
			expect.objectContaining({ subscriptionId: plain, lifecycleEvent: 'reauthorizationRequired' }),
		]);
		expect(receiver.notifications('/lifecycle')).toHaveLength(3);
	});

	it('dropSubscription forgets a subscription silently, and a new one can be created in its place', async () => {
		const old = str((await subscribe()).id);
		expect(emu.dropSubscription(old)).toBe(true);
		expect(emu.dropSubscription(old)).toBe(false);
		expect((await graph(me, `/v1.0/subscriptions/${old}`)).status).toBe(404);
		expect(
			(
				await graph(me, `/v1.0/subscriptions/${old}`, {
					method: 'PATCH',
					body: {
						expirationDateTime: inMinutes(30),
					},
				})
			).status,
		).toBe(404);
		emu.setPresence(emu.users[1].id, { availability: 'Busy', activity: 'Busy' });
		await pause(150);
		expect(receiver.notifications()).toEqual([]);
		expect(deliveries('lifecycle')).toEqual([]);

		const fresh = str((await subscribe()).id);
		expect(emu.subscriptions.map((s) => s.id)).toEqual([fresh]);
		emu.setPresence(emu.users[1].id, { availability: 'Away', activity: 'Away' });
		await emu.deliveriesIdle();
		expect(receiver.entries().map((e) => e.subscriptionId)).toEqual([fresh]);
	});

	it('stop() aborts a delivery the receiver never answers, without waiting for its timeout', async () => {
		receiver.answer = () => ({ status: 200, hang: true });
		await subscribe();
		emu.setPresence(emu.users[1].id, { availability: 'Busy', activity: 'Busy' });
		await waitFor(() => receiver.notifications().length === 1, 'the notification to arrive');
		const started = Date.now();
		await emu.stop();
		expect(Date.now() - started).toBeLessThan(1000);
		expect(deliveries('notification')).toEqual([
			expect.objectContaining({ status: 0, attempt: 1 }),
		]);
		expect(receiver.notifications()).toHaveLength(1);
	});
});
