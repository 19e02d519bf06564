import { X509Certificate } from 'crypto';
import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';
import { generate } from 'selfsigned';

import {
	encryptResource,
	type GraphEmulator,
	type EmulatedSubscription,
	type ForgedToken,
	type NotificationPayload,
	type Presence,
	type PresenceNotification,
} from '../emulator';
import { decodeStored, encodeStored } from '../../nodes/shared/presence/compactState';
import { store } from '../../nodes/shared/presence/presenceDiff';
import { startWebhookHost, type HarnessCredential, type WebhookHost } from '../harness';
import {
	credentialTypes,
	INSTANT_TYPE,
	instantNodeTypes,
	TENANT,
	type TestApp,
	useEmulator,
} from './support';

/**
 * The Instant Presence Trigger through n8n-core's hook, trigger and webhook contexts, against the emulator, which
 * enforces what Microsoft documents for presence subscriptions: one per signed-in user and app (409 for a second),
 * listings without clientState and with the resource not echoed as sent, rich content of five properties only,
 * validation tokens signed with published keys. The harness keeps static data as n8n does: one copy per webhook
 * request, last write wins.
 */

let emu: GraphEmulator;
let app: TestApp;
let delegated: HarnessCredential;
const hosts: WebhookHost[] = [];

useEmulator(
	{
		seed: 41,
		users: 1400,
		clientId: 'eeeeeeee-0000-4000-8000-000000000001',
		credentials: ['delegated'],
	},
	(started) => {
		({ emu, app } = started);
		delegated = started.credentials.delegated;
	},
);
afterEach(async () => {
	emu.unconsentedClients.clear();
	emu.notificationBatchMs = 50;
	// Each test's subscriptions go, as deactivation removes them: the signed-in user has one per app.
	for (const h of hosts.splice(0)) {
		await h.idle();
		expect(await h.hook('delete')).toBe(true);
		await h.close();
	}
	expect(emu.subscriptions).toEqual([]);
});

async function host(
	userIds: string[],
	parameters: INodeParameters = {},
	credential: HarnessCredential = delegated,
	workflowId = `wf-${Math.random().toString(36).slice(2)}`,
	staticData: IDataObject = {},
): Promise<WebhookHost> {
	const node: INode = {
		id: 'instant',
		name: 'Presence changed',
		type: INSTANT_TYPE,
		typeVersion: 1,
		position: [0, 0],
		webhookId: `hook-${workflowId}`,
		parameters: { userIds: userIds.join(','), triggerOn: 'anyChange', options: {}, ...parameters },
		credentials: { microsoftGraphPresenceOAuth2Api: { id: 'delegated', name: 'Graph' } },
	};
	const started = await startWebhookHost({
		workflow: { id: workflowId, nodes: [node], connections: {}, staticData },
		nodeTypes: instantNodeTypes,
		credentialTypes,
		credentials: { delegated: credential },
		node: node.name,
	});
	hosts.push(started);
	return started;
}

async function until<T>(what: string, get: () => T | undefined | false, ms = 5000): Promise<T> {
	const deadline = Date.now() + ms;
	for (;;) {
		const value = get();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}
const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

const withCertificate = (): HarnessCredential => ({
	...delegated,
	data: {
		...delegated.data,
		notificationCertificate: app.certificatePem,
		notificationPrivateKey: app.privateKey,
	},
});
const ours = (h: WebhookHost) =>
	emu.subscriptions.filter((subscription) => subscription.notificationUrl === h.webhookUrl);
const flip = (id: string) =>
	emu.setPresence(
		id,
		emu.effectivePresence(id).availability === 'Available'
			? { availability: 'Busy', activity: 'InACall' }
			: { availability: 'Available', activity: 'Available' },
	);
const presenceRequests = () => emu.requests('/communications/getPresencesByUserId');
const subscriptionPosts = () =>
	emu.requests('/subscriptions').filter((entry) => entry.method === 'POST');
/** Items of every run so far, as [user, availability] pairs. */
const emitted = (h: WebhookHost) =>
	h.runs.flat().map((item) => [item.json.id, item.json.availability] as const);

/** Activates the node and its schedule; returns the schedule's tick. */
async function activate(h: WebhookHost): Promise<() => Promise<void>> {
	expect(await h.hook('checkExists')).toBe(false);
	expect(await h.hook('create')).toBe(true);
	const ticks = await h.activateTrigger();
	expect(ticks.map((tick) => tick.expression)).toEqual(['0 * * * * *']);
	return ticks[0].tick;
}

describe('Instant Presence Trigger under Graph’s rules', () => {
	it("subscribes on activation (validation answered with the token as plain text), and n8n's check then finds it", async () => {
		const ids = emu.users.slice(0, 3).map((user) => user.id);
		const h = await host(ids);
		await activate(h);
		const [subscription] = ours(h);
		expect(ours(h)).toHaveLength(1);
		expect(subscription.userIds).toEqual(ids.map((id) => id.toLowerCase()));
		expect(subscription.lifecycleNotificationUrl).toBe(h.webhookUrl);
		// The create-subscription page asks presence subscriptions to always carry a certificate: a basic one
		// carries the package's public one (no resource data, so nothing is ever encrypted for it).
		expect([subscription.includeResourceData, subscription.encryptionCertificateId]).toEqual([
			false,
			'n8n-msgraph-presence-basic-1',
		]);
		const validations = h.requests.filter((request) => request.query.validationToken);
		expect(validations.length).toBeGreaterThanOrEqual(2);
		for (const validation of validations)
			expect([validation.status, validation.text]).toEqual([200, validation.query.validationToken]);
		// Graph echoes the resource in its own form and never shows the clientState: the node still knows it.
		const listed = (await graphGet('/subscriptions')) as { value: Array<Record<string, unknown>> };
		expect(listed.value.map((entry) => entry.clientState)).toEqual([null]);
		expect(await h.hook('checkExists')).toBe(true);
	});

	it('1,300 users on one credential: one subscription for the first 650, the rest read on the schedule; a change in each part emits once', async () => {
		const ids = emu.users.slice(0, 1300).map((user) => user.id);
		const h = await host(ids);
		const tick = await activate(h);
		expect(ours(h).map((subscription) => subscription.userIds.length)).toEqual([650]);
		expect(ours(h)[0].userIds).toEqual(ids.slice(0, 650).map((id) => id.toLowerCase()));
		expect(subscriptionPosts()).toHaveLength(1);
		expect(h.logs.join('\n')).toContain(
			'1300 watched users: 650 instant (one subscription), 650 polled every minute (1 request(s) each time)',
		);
		await tick(); // the first tick reads everyone once: nothing changed since activation
		expect(h.runs).toHaveLength(0);

		const instantUser = ids[10];
		const polledUser = ids[1000];
		flip(instantUser);
		flip(polledUser);
		await until('the notification run', () => h.runs.length === 1);
		expect(h.runSources).toEqual(['webhook']);
		emu.clearLog();
		await tick();
		expect(h.runSources).toEqual(['webhook', 'schedule']);
		// The polled part only, 650 per request: the instant users are read every fifth tick.
		expect(presenceRequests().map((entry) => (entry.body as { ids: string[] }).ids.length)).toEqual(
			[650],
		);
		await h.idle();
		expect(emitted(h).map(([id]) => id)).toEqual([instantUser, polledUser]);
		// Nothing twice: the next ticks, up to the fifth (which reads everyone), emit nothing more.
		for (let i = 0; i < 4; i++) await tick();
		expect(emitted(h)).toHaveLength(2);
	});

	it('a second workflow on the same credential: Graph refuses a second subscription, so it polls its users, and takes over the subscription when the first lets go', async () => {
		const ids = emu.users.slice(100, 110).map((user) => user.id);
		const first = await host(ids.slice(0, 5));
		await activate(first);
		const second = await host(ids.slice(5));
		const tick = await activate(second);
		expect(ours(second)).toHaveLength(0);
		expect(ours(first)).toHaveLength(1);
		expect(second.logs.join('\n')).toMatch(
			/one presence subscription per signed-in user and app, and this account's is held by http:\/\/127\.0\.0\.1:\d+\/webhook\/hook-wf-[a-z0-9]+\/presence; all 5 watched users polled every minute/,
		);
		await tick();
		// No retry storm: the schedule lists, sees the holder, and does not try to create.
		emu.clearLog();
		await tick();
		expect(subscriptionPosts()).toHaveLength(0);

		flip(ids[7]);
		await tick();
		expect(emitted(second).map(([id]) => id)).toEqual([ids[7]]);
		expect(first.runs).toHaveLength(0);

		// The first is deactivated: the second's next tick subscribes, and its users are instant from then on.
		expect(await first.hook('delete')).toBe(true);
		await tick();
		expect(ours(second)).toHaveLength(1);
		expect(second.logs.join('\n')).toContain('subscribed again');
		flip(ids[8]);
		await until('an instant run', () => second.runSources.includes('webhook'));
		expect(emitted(second).map(([id]) => id)).toEqual([ids[7], ids[8]]);
	});

	it('two workflows activated at once: Graph answers the slower one 409, which is the same fallback, not an error', async () => {
		const ids = emu.users.slice(120, 124).map((user) => user.id);
		const [x, y] = [await host(ids.slice(0, 2)), await host(ids.slice(2))];
		// Both list (nothing there yet), both create; Graph validates both URLs, then refuses the second.
		const [xs, ys] = await Promise.all([x.hook('create'), y.hook('create')]);
		expect([xs, ys]).toEqual([true, true]);
		expect(
			subscriptionPosts()
				.map((entry) => entry.status)
				.sort(),
		).toEqual([201, 409]);
		const holders = [x, y].filter((h) => ours(h).length === 1);
		expect(holders).toHaveLength(1);
		const polling = holders[0] === x ? y : x;
		expect(polling.logs.join('\n')).toContain('polled every minute');
	});

	it('restart with a live subscription that has 15 minutes left: the same clientState, renewed, and deliveries keep validating', async () => {
		const ids = emu.users.slice(130, 133).map((user) => user.id);
		const h = await host(ids);
		await activate(h);
		const [subscription] = ours(h);
		const secret = subscription.clientState;
		expect(emu.expireSubscriptionIn(subscription.id, 15 * 60_000)).toBe(true);
		// n8n restarts: the activation copy of the static data comes from the database; its check says renew.
		await h.restart();
		expect(await h.hook('checkExists')).toBe(false);
		emu.clearLog();
		expect(await h.hook('create')).toBe(true);
		expect(
			emu
				.requests(`/subscriptions/${subscription.id}`)
				.map((entry) => [entry.method, entry.status]),
		).toEqual([['PATCH', 200]]);
		expect(ours(h).map((entry) => [entry.id, entry.clientState])).toEqual([
			[subscription.id, secret],
		]);
		expect(Date.parse(ours(h)[0].expirationDateTime) - Date.now()).toBeGreaterThan(50 * 60_000);
		flip(ids[1]);
		await until('a run after the restart', () => h.runs.length === 1);
		expect(h.requests.filter((request) => request.status === 401)).toHaveLength(0);
	});

	it('changes while n8n was down are reported by the first tick after the restart, once', async () => {
		const ids = emu.users.slice(140, 143).map((user) => user.id);
		const h = await host(ids);
		await activate(h);
		const [subscription] = ours(h);
		emu.dropSubscription(subscription.id); // n8n is down: Graph's deliveries go nowhere
		flip(ids[2]);
		await h.restart();
		expect(await h.hook('checkExists')).toBe(false);
		await h.hook('create');
		const [tick] = (await h.activateTrigger()).map((entry) => entry.tick);
		await tick();
		expect(emitted(h).map(([id]) => id)).toEqual([ids[2]]);
		await tick();
		expect(emitted(h)).toHaveLength(1);
	});

	it('renews on its schedule with no notification arriving, re-creates what Graph lost with the same secret, and answers lifecycle events', async () => {
		const ids = emu.users.slice(150, 153).map((user) => user.id);
		const h = await host(ids);
		const tick = await activate(h);
		const [subscription] = ours(h);
		emu.expireSubscriptionIn(subscription.id, 10 * 60_000);
		emu.clearLog();
		await tick();
		expect(
			emu
				.requests(`/subscriptions/${subscription.id}`)
				.map((entry) => [entry.method, entry.status]),
		).toEqual([['PATCH', 200]]);
		emu.dropSubscription(subscription.id);
		await tick();
		const recreated = ours(h)[0];
		expect(recreated.id).not.toBe(subscription.id);
		expect(recreated.clientState).toBe(subscription.clientState);

		emu.clearLog();
		await emu.sendLifecycleEvent(recreated.id, 'reauthorizationRequired');
		await h.idle();
		expect(
			emu.requests(`/subscriptions/${recreated.id}`).map((entry) => [entry.method, entry.status]),
		).toEqual([['PATCH', 200]]);
		await emu.sendLifecycleEvent(recreated.id, 'subscriptionRemoved');
		await h.idle();
		expect(ours(h).map((entry) => entry.id)).not.toContain(recreated.id);
		expect(ours(h)).toHaveLength(1);
		expect(h.runs).toHaveLength(0);
	});

	it('Include User Details: instant items carry the name, UPN and mail, looked up once, then from the cache', async () => {
		const ids = emu.users.slice(180, 182).map((user) => user.id);
		const h = await host(ids, { options: { includeUserDetails: true } });
		const tick = await activate(h);
		await tick();
		flip(ids[0]);
		await until('a webhook run', () => h.runs.length === 1);
		const user = emu.getUser(ids[0])!;
		expect(h.runs[0][0].json).toMatchObject({
			id: ids[0],
			displayName: user.displayName,
			userPrincipalName: user.userPrincipalName,
			mail: user.mail,
		});
		const lookups = emu.log.filter(
			(entry) => entry.path === '/v1.0/users' || entry.path === '/v1.0/$batch',
		);
		flip(ids[0]);
		await until('a second run', () => h.runs.length === 2);
		expect(h.runs[1][0].json).toMatchObject({ displayName: user.displayName });
		// The second change is served from the names cache.
		expect(
			emu.log.filter((entry) => entry.path === '/v1.0/users' || entry.path === '/v1.0/$batch'),
		).toHaveLength(lookups.length);
	});

	it('rejects a notification with a wrong or missing clientState, and bounds the validation token', async () => {
		const ids = emu.users.slice(160, 162).map((user) => user.id);
		const h = await host(ids);
		await activate(h);
		const [subscription] = ours(h);
		const post = (clientState: unknown) =>
			fetch(h.webhookUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({
					value: [{ ...notification(subscription, ids[0]), clientState }],
				}),
			});
		expect((await post('guessed')).status).toBe(401);
		expect((await post(undefined)).status).toBe(401);
		const long = await fetch(`${h.webhookUrl}?validationToken=${'x'.repeat(2000)}`, {
			method: 'POST',
		});
		expect(long.status).toBe(400);
		const html = await fetch(
			`${h.webhookUrl}?validationToken=${encodeURIComponent('<script>x</script>')}`,
			{ method: 'POST' },
		);
		expect(html.headers.get('content-type')).toContain('text/plain');
		expect(await html.text()).toBe('<script>x</script>');
		await settle();
		expect(h.runs).toHaveLength(0);
	});

	it('persistent failure (consent revoked) is reported through n8n’s error path after three ticks, not only logged', async () => {
		const ids = emu.users.slice(170, 172).map((user) => user.id);
		const h = await host(ids);
		const tick = await activate(h);
		emu.unconsentedClients.add(app.clientId.toLowerCase());
		await tick();
		await tick();
		expect(h.errors).toHaveLength(0);
		await tick();
		expect(h.errors.map((error) => error.kind)).toEqual(['emitError']);
		expect(h.errors[0].message).toContain('Presence changes are not being received');
		expect(h.logs.join('\n')).toContain('the schedule failed (3 time(s) in a row)');
	});
});

describe('Instant Presence Trigger: concurrent deliveries and the schedule', () => {
	it('twenty deliveries at once and a tick meanwhile: every transition exactly once, and the saved state holds all of them', async () => {
		const ids = emu.users.slice(200, 220).map((user) => user.id);
		const h = await host(ids);
		const tick = await activate(h);
		await tick();
		// Each change its own POST: twenty webhook requests in flight together, each with its own copy of the
		// static data, loaded before the others saved theirs.
		emu.notificationBatchMs = 0;
		const after: Presence[] = [];
		for (const id of ids) {
			after.push(flip(id));
			// Changes in one event-loop turn share a POST: one turn each, so each is its own delivery.
			await settle(1);
		}
		const ticking = tick();
		await until('twenty deliveries', () =>
			emu.deliveries.filter((entry) => entry.kind === 'notification' && entry.url === h.webhookUrl)
				.length >= 20
				? true
				: undefined,
		);
		await ticking;
		await h.idle();
		expect([...emitted(h)].sort()).toEqual(ids.map((id, i) => [id, after[i].availability]).sort());
		const saved = h.staticData()['node:Presence changed'] as { users: Record<string, string> };
		expect(ids.map((id) => decodeStored(saved.users[id.toLowerCase()])?.a)).toEqual(
			after.map((presence) => presence.availability),
		);
		// The safety read (every fifth tick) and a restart find nothing new to report.
		for (let i = 0; i < 5; i++) await tick();
		await h.restart();
		await h.hook('create');
		const [again] = (await h.activateTrigger()).map((entry) => entry.tick);
		await again();
		expect(emitted(h)).toHaveLength(20);
	});

	it('lifecycle storms are bounded: fifty `missed` at once read everyone once, fifty `reauthorizationRequired` renew once', async () => {
		const ids = emu.users.slice(300, 1000).map((user) => user.id);
		const h = await host(ids);
		await activate(h);
		const [subscription] = ours(h);
		const lifecycle = (event: string) =>
			fetch(h.webhookUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({
					value: [
						{
							subscriptionId: subscription.id,
							clientState: subscription.clientState,
							lifecycleEvent: event,
							subscriptionExpirationDateTime: subscription.expirationDateTime,
							tenantId: TENANT,
						},
					],
				}),
			});
		emu.clearLog();
		await Promise.all(Array.from({ length: 50 }, () => lifecycle('missed')));
		await h.idle();
		// 700 users: two requests for one full read.
		expect(presenceRequests()).toHaveLength(2);
		emu.clearLog();
		await Promise.all(Array.from({ length: 50 }, () => lifecycle('reauthorizationRequired')));
		await h.idle();
		const patches = emu
			.requests(`/subscriptions/${subscription.id}`)
			.filter((e) => e.method === 'PATCH');
		expect(patches.length).toBeGreaterThanOrEqual(1);
		expect(patches.length).toBeLessThanOrEqual(2);
	});
});

describe('Instant Presence Trigger: rich notifications as Graph sends them', () => {
	it('availability and activity from the encrypted content, no request to Graph; validation tokens checked against the published keys', async () => {
		const ids = emu.users.slice(400, 402).map((user) => user.id);
		const h = await host(ids, { options: { richNotifications: true } }, withCertificate());
		await activate(h);
		expect(ours(h)[0].includeResourceData).toBe(true);
		emu.clearLog();
		const after = flip(ids[0]);
		await until('a run', () => h.runs.length === 1);
		expect(h.runs[0][0].json).toMatchObject({
			id: ids[0],
			availability: after.availability,
			activity: after.activity,
		});
		expect(presenceRequests()).toHaveLength(0);
		// The keys were fetched from the login host once and are cached.
		expect(emu.requests('/login/common/discovery/v2.0/keys')).toHaveLength(1);
		flip(ids[1]);
		await until('a second run', () => h.runs.length === 2);
		expect(emu.requests('/login/common/discovery/v2.0/keys')).toHaveLength(1);

		// Microsoft rotates its keys: a token signed with the new key makes the node fetch them again, once. (Not
		// within ten seconds of the last fetch, so that forged key ids cannot make it fetch at will: wait that out.)
		await settle(10_500);
		emu.rotateNotificationSigningKey();
		flip(ids[0]);
		await until('a run after the rotation', () => h.runs.length === 3);
		expect(emu.requests('/login/common/discovery/v2.0/keys')).toHaveLength(2);
	});

	it('a validation token signed with a key Microsoft does not publish: the content is not believed, the user is read from Graph', async () => {
		const ids = emu.users.slice(405, 407).map((user) => user.id);
		const h = await host(ids, { options: { richNotifications: true } }, withCertificate());
		await activate(h);
		emu.forgeNextValidationToken('unknownKey');
		emu.clearLog();
		const after = flip(ids[0]);
		await until('a run from what Graph says', () => h.runs.length === 1);
		expect((presenceRequests()[0].body as { ids: string[] }).ids).toEqual([ids[0]]);
		expect(h.runs[0][0].json).toMatchObject({ id: ids[0], sequenceNumber: after.sequenceNumber });
		expect(h.logs.join('\n')).toContain('names a signing key Microsoft does not publish');
	});

	it.each<ForgedToken>(['signature', 'audience', 'issuer', 'expired', 'publisher'])(
		'a delivery whose validation token is forged (%s) is answered 202 and does nothing',
		async (kind) => {
			const ids = emu.users.slice(410, 412).map((user) => user.id);
			const h = await host(ids, { options: { richNotifications: true } }, withCertificate());
			await activate(h);
			emu.forgeNextValidationToken(kind);
			emu.clearLog();
			flip(ids[0]);
			await until('the delivery', () =>
				emu.deliveries.find((entry) => entry.kind === 'notification' && entry.url === h.webhookUrl),
			);
			await h.idle();
			const delivery = emu.deliveries.find(
				(entry) => entry.kind === 'notification' && entry.url === h.webhookUrl,
			);
			expect(delivery?.status).toBe(202);
			expect(h.runs).toHaveLength(0);
			expect(presenceRequests()).toHaveLength(0);
			expect(h.logs.join('\n')).toContain('refused rich notifications: a validation token is');
		},
	);

	it('content about another user than the notification names is refused; a bad signature too', async () => {
		const [a, b] = emu.users.slice(420, 422).map((user) => user.id);
		const { h, subscription } = await silencedHost([a, b], true);
		const presenceOfB = emu.effectivePresence(b);
		// The content says b, the notification says a.
		await deliverRich(h, [
			notification(subscription, a, sealed({ ...presenceOfB, availability: 'Away' })),
		]);
		expect(h.runs).toHaveLength(0);
		expect(h.logs.join('\n')).toContain('content is about another user');
		// Content whose HMAC does not match its data.
		const tampered = sealed({ ...emu.effectivePresence(a), availability: 'Away' });
		const signature = Buffer.from(tampered.dataSignature, 'base64');
		signature[0] ^= 0xff;
		tampered.dataSignature = signature.toString('base64');
		await deliverRich(h, [notification(subscription, a, tampered)]);
		expect(h.runs).toHaveLength(0);
		expect(h.logs.join('\n')).toContain('signature does not match');
	});

	it('without a sequence number: a redelivery emits nothing, and one user twice in a delivery is read from Graph (order unknown)', async () => {
		const [a, b] = emu.users.slice(430, 432).map((user) => user.id);
		const { h, subscription } = await silencedHost([a, b], true);
		const a1 = flip(a);
		const post = [notification(subscription, a, sealed(a1))];
		await deliverRich(h, post);
		expect(emitted(h)).toEqual([[a, a1.availability]]);
		// Graph delivers the same again (a retry): same availability and activity as held, nothing emitted.
		await deliverRich(h, post);
		expect(emitted(h)).toHaveLength(1);

		// Two versions of b in one POST, in an order the content cannot tell: b is read, one change emitted.
		const b1 = flip(b);
		const b2 = flip(b);
		emu.clearLog();
		await deliverRich(h, [
			notification(subscription, b, sealed(b2)),
			notification(subscription, b, sealed(b1)),
		]);
		expect((presenceRequests()[0]?.body as { ids: string[] }).ids).toEqual([b]);
		expect(emitted(h)).toEqual([
			[a, a1.availability],
			[b, b2.availability],
		]);
	});

	it('a certificate rotated in the credential re-subscribes with the new one, and its content decrypts', async () => {
		const ids = emu.users.slice(440, 442).map((user) => user.id);
		const h = await host(ids, { options: { richNotifications: true } }, withCertificate());
		const tick = await activate(h);
		const before = ours(h)[0];
		const fresh = await generate([{ name: 'commonName', value: 'rotated' }], { keySize: 2048 });
		await h.setCredential('delegated', {
			...delegated,
			data: {
				...delegated.data,
				notificationCertificate: fresh.cert,
				notificationPrivateKey: fresh.private,
			},
		});
		await tick();
		const after = ours(h)[0];
		expect(after.id).not.toBe(before.id);
		expect(after.encryptionCertificateId).not.toBe(before.encryptionCertificateId);
		emu.clearLog();
		const changed = flip(ids[1]);
		await until('a run with the new certificate', () => h.runs.length === 1);
		expect(h.runs[0][0].json).toMatchObject({ id: ids[1], availability: changed.availability });
		expect(presenceRequests()).toHaveLength(0);
	});
});

async function graphGet(path: string): Promise<unknown> {
	const token = String((delegated.data.oauthTokenData as { access_token: string }).access_token);
	const response = await fetch(`${emu.url}/v1.0${path}`, {
		headers: { authorization: `Bearer ${token}` },
	});
	return (await response.json()) as unknown;
}

/** Activates, then makes Graph forget the subscription, so only the test notifies, with the node's clientState. */
async function silencedHost(ids: string[], rich = false, options: IDataObject = {}) {
	const h = await host(
		ids,
		{ options: { ...(rich ? { richNotifications: true } : {}), ...options } },
		rich ? withCertificate() : delegated,
	);
	await h.hook('create');
	const [subscription] = ours(h);
	emu.dropSubscription(subscription.id);
	return { h, subscription };
}

/** Encrypted content as Graph words it for presence: five properties (changenotifications-for-presence). */
function sealed(presence: Presence): NonNullable<PresenceNotification['encryptedContent']> {
	const { publicKey } = new X509Certificate(app.certificatePem);
	const certificateId = new X509Certificate(app.certificatePem).fingerprint256
		.replace(/:/g, '')
		.slice(0, 32);
	return encryptResource(
		{
			'@odata.id': `users/${presence.id}/presence`,
			'@odata.type': '#microsoft.graph.presence',
			id: presence.id,
			availability: presence.availability,
			activity: presence.activity,
		},
		{ publicKey, thumbprint: 'test' },
		certificateId,
	);
}

/** One change notification as Graph words it (changenotifications-for-presence); with content, a rich one. */
function notification(
	subscription: EmulatedSubscription,
	userId: string,
	encryptedContent?: PresenceNotification['encryptedContent'],
): PresenceNotification {
	return {
		subscriptionId: subscription.id,
		clientState: subscription.clientState,
		changeType: 'updated',
		resource: `communications/presences/${userId}`,
		resourceData: {
			'@odata.id': `users/${userId}/presence`,
			'@odata.type': '#microsoft.graph.presence',
			id: userId,
		},
		subscriptionExpirationDateTime: subscription.expirationDateTime,
		tenantId: subscription.tenantId,
		organizationId: subscription.tenantId,
		...(encryptedContent && { encryptedContent }),
	};
}

/** POSTs rich notifications as one delivery, with a genuine validation token, and waits for the node. */
async function deliverRich(h: WebhookHost, value: PresenceNotification[]): Promise<void> {
	const payload: NotificationPayload = {
		value,
		validationTokens: [emu.validationToken(app.clientId, TENANT)],
	};
	const response = await fetch(h.webhookUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(payload),
	});
	expect(response.status).toBe(202);
	await h.idle();
}

describe('Instant Presence Trigger behind several webhook processes', () => {
	const set = (id: string, availability: string, activity: string) =>
		emu.setPresence(id, { availability, activity });
	async function deliver(h: WebhookHost, subscription: EmulatedSubscription, id: string) {
		const response = await fetch(h.webhookUrl, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ value: [notification(subscription, id)] }),
		});
		expect(response.status).toBe(202);
		await h.idle();
	}
	const items = (h: WebhookHost) =>
		h.runs.flat().map(({ json }) => ({
			id: json.id,
			availability: json.availability,
			previous: (json.previous as IDataObject | null)?.availability ?? null,
			changed: json.changed,
			changeId: json.changeId,
		}));

	it("each process starts from the newest version any process saved; with Several Webhook Processes a change back to a state only another process saw is still emitted, previous null, keyed by Graph's version", async () => {
		const [a, b] = emu.users.slice(760, 762).map((user) => user.id);
		for (const several of [false, true]) {
			set(a, 'Busy', 'InACall');
			set(b, 'Busy', 'InACall');
			const { h, subscription } = await silencedHost([a, b], false, {
				severalWebhookProcesses: several,
			});
			// Another process saw a become Available and saved its copy, whose revision counter is behind ours.
			const aAvailable = set(a, 'Available', 'Available');
			const theirs = h.staticData();
			const node = theirs['node:Presence changed'] as {
				users: Record<string, string>;
				rev: number;
			};
			node.users[a.toLowerCase()] = encodeStored(
				store({ ...aAvailable }, new Date().toISOString()),
			);
			node.rev = 0;
			h.saveStaticData(theirs);
			const aBusy = set(a, 'Busy', 'InACall');
			await deliver(h, subscription, a);
			// Another process saw b become Available and has not saved yet; b is Busy again when it reaches us.
			set(b, 'Available', 'Available');
			const bBusy = set(b, 'Busy', 'InACall');
			await deliver(h, subscription, b);
			// Graph delivers b's notification once more: the same version, nothing new.
			await deliver(h, subscription, b);
			const aChange = {
				id: a,
				availability: 'Busy',
				previous: 'Available',
				changed: ['availability', 'activity'],
				changeId: `${a.toLowerCase()}:${aBusy.sequenceNumber}`,
			};
			const bGap = {
				id: b,
				availability: 'Busy',
				previous: null,
				changed: [],
				changeId: `${b.toLowerCase()}:${bBusy.sequenceNumber}`,
			};
			expect(items(h)).toEqual(several ? [aChange, bGap] : [aChange]);
		}
	});
});

describe('Instant Presence Trigger: Hold For, Active Hours and activity filters', () => {
	const nodeState = (h: WebhookHost) =>
		(h.staticData()['node:Presence changed'] ?? {}) as { held?: IDataObject; active?: boolean };
	const set = (id: string, availability: string, activity: string) =>
		emu.setPresence(id, { availability, activity });

	it('Only To Activity: a delivery emits only the users who started presenting', async () => {
		const ids = emu.users.slice(700, 703).map((user) => user.id);
		for (const id of ids) set(id, 'Busy', 'InACall');
		const h = await host(ids, { options: { toActivity: ['Presenting'] } });
		const tick = await activate(h);
		await tick();
		emu.notificationBatchMs = 200; // both changes in one delivery
		set(ids[0], 'Busy', 'Presenting');
		set(ids[1], 'Busy', 'InAMeeting');
		await until('a webhook run', () => h.runs.length === 1);
		await settle();
		await h.idle();
		expect(h.runs.map((run) => run.map((item) => [item.json.id, item.json.activity]))).toEqual([
			[[ids[0], 'Presenting']],
		]);
	});

	it('Hold For: a flip back inside the window is silence; what lasted is emitted by the schedule, once, and waits in the static data meanwhile', async () => {
		const ids = emu.users.slice(710, 713).map((user) => user.id);
		for (const id of ids) set(id, 'Available', 'Available');
		const h = await host(ids, { options: { holdForMinutes: 0.02 } }); // 1.2 s
		const tick = await activate(h);
		await tick();
		set(ids[0], 'Away', 'Away');
		set(ids[1], 'Busy', 'InACall');
		const held = (id: string) => Object.keys(nodeState(h).held ?? {}).includes(id.toLowerCase());
		await until('both changes held', () => held(ids[0]) && held(ids[1]));
		set(ids[0], 'Available', 'Available'); // back within the window
		await until('the flip back dropped', () => !held(ids[0]));
		expect(h.runs).toHaveLength(0);

		await settle(1300);
		await tick();
		expect(h.runSources).toEqual(['schedule']);
		expect(h.runs[0].map((item) => item.json)).toMatchObject([
			{
				id: ids[1],
				availability: 'Busy',
				event: 'changed',
				previous: { availability: 'Available' },
			},
		]);
		await tick();
		expect(h.runs).toHaveLength(1);
	});

	it('Active Hours: deliveries outside them emit nothing; when the window opens, the schedule emits everyone once', async () => {
		const ids = emu.users.slice(720, 723).map((user) => user.id);
		const today = new Date().getUTCDay();
		const closed = {
			activeHours: {
				hours: { days: [(today + 3) % 7], from: '00:00', to: '24:00', timeZone: 'UTC' },
			},
		};
		const quiet = await host(ids, { options: closed });
		const quietTick = await activate(quiet);
		await quietTick();
		flip(ids[0]);
		await until('the delivery', () =>
			quiet.requests.some((request) => JSON.stringify(request.body).includes('presences')),
		);
		await quiet.idle();
		await quietTick();
		expect(quiet.runs).toHaveLength(0);
		expect(nodeState(quiet).active).toBe(false);
		expect(await quiet.hook('delete')).toBe(true);
		hosts.splice(hosts.indexOf(quiet), 1);
		await quiet.close();

		// The same trigger after its Active Hours were widened: the static data says the window was
		// closed when it last looked, and now it is open.
		const open = {
			activeHours: { hours: { days: [], from: '00:00', to: '24:00', timeZone: 'UTC' } },
			emitWhenActiveHoursStart: true,
		};
		const h = await host(ids, { options: open }, delegated, undefined, {
			'node:Presence changed': { active: false },
		});
		const tick = await activate(h);
		await tick();
		expect(h.runs.map((run) => run.map((item) => [item.json.id, item.json.event]))).toEqual([
			ids.map((id) => [id, 'current']),
		]);
		await tick();
		flip(ids[1]);
		await until('a webhook run', () => h.runs.length === 2);
		expect(h.runs[1].map((item) => [item.json.id, item.json.event])).toEqual([[ids[1], 'changed']]);
	});
});
