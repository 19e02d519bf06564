import { X509Certificate } from 'crypto';
import type { INode, INodeParameters } from 'n8n-workflow';

import {
	encryptResource,
	GraphEmulator,
	type EmulatedSubscription,
	type NotificationPayload,
	type Presence,
	type PresenceNotification,
} from '../emulator';
import { startWebhookHost, type HarnessCredential, type WebhookHost } from '../harness';
import {
	credentialTypes,
	INSTANT_TYPE,
	instantNodeTypes,
	type TestApp,
	useEmulator,
} from './support';

let emu: GraphEmulator;
let app: TestApp;
let delegated: HarnessCredential;
const hosts: WebhookHost[] = [];

// Declared before the emulator's fixture, so it runs first: the hosts close while Graph still answers.
afterAll(async () => {
	for (const host of hosts) await host.close();
});
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

async function host(
	userIds: string[],
	parameters: INodeParameters = {},
	credential: HarnessCredential = delegated,
): Promise<WebhookHost> {
	const node: INode = {
		id: 'instant',
		name: 'Presence changed',
		type: INSTANT_TYPE,
		typeVersion: 1,
		position: [0, 0],
		webhookId: `hook-${hosts.length}`,
		parameters: { userIds: userIds.join(','), triggerOn: 'anyChange', options: {}, ...parameters },
		credentials: { microsoftGraphPresenceOAuth2Api: { id: 'delegated', name: 'Graph' } },
	};
	const started = await startWebhookHost({
		workflow: { id: `wf-${hosts.length}`, nodes: [node], connections: {}, staticData: {} },
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

describe('Instant Presence Trigger (Graph change notifications)', () => {
	it("subscribes on activation, answering Graph's validation with the token as plain text", async () => {
		const ids = emu.users.slice(0, 3).map((user) => user.id);
		const h = await host(ids);
		expect(await h.hook('checkExists')).toBe(false);
		expect(await h.hook('create')).toBe(true);
		const [subscription] = ours(h);
		expect(ours(h)).toHaveLength(1);
		expect(subscription.userIds).toEqual([...ids].sort());
		expect(subscription.changeType).toBe('updated');
		expect(subscription.lifecycleNotificationUrl).toBe(h.webhookUrl);
		expect(Date.parse(String(subscription.expirationDateTime)) - Date.now()).toBeLessThanOrEqual(
			60 * 60_000,
		);
		const validations = h.requests.filter((request) => request.query.validationToken);
		expect(validations.length).toBeGreaterThanOrEqual(2);
		for (const validation of validations)
			expect([validation.status, validation.text]).toEqual([200, validation.query.validationToken]);
		expect(await h.hook('checkExists')).toBe(true);
	});

	it('emits one item per changed user, with previous values, after answering Graph at once', async () => {
		const ids = emu.users.slice(10, 13).map((user) => user.id);
		const h = await host(ids);
		await h.hook('create');
		const before = emu.effectivePresence(ids[1]);
		const after = flip(ids[1]);
		const [run] = await until('a workflow run', () => (h.runs.length > 0 ? h.runs : undefined));
		expect(run).toHaveLength(1);
		expect(run[0].json).toMatchObject({
			id: ids[1],
			event: 'changed',
			availability: after.availability,
			previous: { availability: before.availability, sequenceNumber: before.sequenceNumber },
		});
		const delivery = emu.deliveries.find(
			(entry) => entry.kind === 'notification' && entry.url === h.webhookUrl,
		);
		expect(delivery?.status).toBe(202);
		expect(emu.requests('/communications/getPresencesByUserId').at(-1)?.body).toEqual({
			ids: [ids[1]],
		});
	});

	it('rejects a notification with a wrong or missing clientState, and bounds the validation token', async () => {
		const ids = emu.users.slice(20, 22).map((user) => user.id);
		const h = await host(ids);
		await h.hook('create');
		const [subscription] = ours(h);
		const forged = (clientState: unknown) =>
			fetch(h.webhookUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({
					value: [
						{
							subscriptionId: subscription.id,
							clientState,
							changeType: 'updated',
							resourceData: { id: ids[0] },
						},
					],
				}),
			});
		expect((await forged('guessed')).status).toBe(401);
		expect((await forged(undefined)).status).toBe(401);
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
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(h.runs).toHaveLength(0);
	});

	it('renews on its own schedule, with no notification arriving, and re-creates what Graph lost', async () => {
		const ids = emu.users.slice(30, 33).map((user) => user.id);
		const h = await host(ids);
		await h.hook('create');
		const ticks = await h.activateTrigger();
		expect(ticks.map((tick) => tick.expression)).toEqual(['0 */5 * * * *']);
		const [subscription] = ours(h);
		const clientState = subscription.clientState;

		// Ten minutes left: the next tick renews it.
		const token = String((delegated.data.oauthTokenData as { access_token: string }).access_token);
		await fetch(`${emu.url}/v1.0/subscriptions/${subscription.id}`, {
			method: 'PATCH',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({
				expirationDateTime: new Date(Date.now() + 10 * 60_000).toISOString(),
			}),
		});
		emu.clearLog();
		await ticks[0].tick();
		await until('a renewal', () =>
			emu
				.requests(`/subscriptions/${subscription.id}`)
				.find((entry) => entry.method === 'PATCH' && entry.status === 200),
		);
		expect(Date.parse(String(ours(h)[0].expirationDateTime)) - Date.now()).toBeGreaterThan(
			50 * 60_000,
		);

		// Graph forgot it: the next tick creates a new one with the same secret, so notifications keep validating.
		emu.dropSubscription(subscription.id);
		await ticks[0].tick();
		const recreated = await until('a new subscription', () =>
			ours(h).find((entry) => entry.id !== subscription.id),
		);
		expect(recreated.clientState).toBe(clientState);
		flip(ids[0]);
		await until('a run after re-creation', () => h.runs.length > 0);
	});

	it('answers lifecycle notifications: reauthorizationRequired renews, subscriptionRemoved re-creates', async () => {
		const ids = emu.users.slice(40, 42).map((user) => user.id);
		const h = await host(ids);
		await h.hook('create');
		const [subscription] = ours(h);
		emu.clearLog();
		await emu.sendLifecycleEvent(subscription.id, 'reauthorizationRequired');
		// Renewed at once although it had 55 minutes left: Graph asked.
		await until('a renewal', () =>
			emu
				.requests(`/subscriptions/${subscription.id}`)
				.find((entry) => entry.method === 'PATCH' && entry.status === 200),
		);
		await emu.sendLifecycleEvent(subscription.id, 'subscriptionRemoved');
		await until('a re-created subscription', () =>
			ours(h).find((entry) => entry.id !== subscription.id),
		);
		expect(h.runs).toHaveLength(0);
	});

	it('watches 1,300 users with two subscriptions of at most 650, and removes them on deactivation', async () => {
		const ids = emu.users.slice(0, 1300).map((user) => user.id);
		const h = await host(ids);
		await h.hook('create');
		expect(ours(h).map((subscription) => subscription.userIds.length)).toEqual([650, 650]);
		expect(await h.hook('delete')).toBe(true);
		expect(ours(h)).toHaveLength(0);
		expect(await h.hook('delete')).toBe(true);
	});

	it('rich notifications carry the presence encrypted: no extra request, and a bad signature is refused', async () => {
		const ids = emu.users.slice(50, 52).map((user) => user.id);
		const h = await host(ids, { options: { richNotifications: true } }, withCertificate());
		await h.hook('create');
		expect(ours(h)[0].includeResourceData).toBe(true);
		emu.clearLog();
		const after = flip(ids[0]);
		const [run] = await until('a run', () => (h.runs.length > 0 ? h.runs : undefined));
		expect(run[0].json).toMatchObject({ id: ids[0], availability: after.availability });
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(0);

		emu.tamperNextSignature();
		flip(ids[1]);
		await until('the tampered delivery', () =>
			emu.deliveries.find(
				(entry) =>
					entry.kind === 'notification' &&
					entry.url === h.webhookUrl &&
					JSON.stringify(entry.body).includes(ids[1]),
			),
		);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(h.runs).toHaveLength(1);
		expect(h.logs.join('\n')).toContain('signature does not match');
	});
});

/** Activates, then makes Graph forget the subscription, so only the test notifies, with the node's clientState. */
async function silencedHost(
	ids: string[],
	parameters?: INodeParameters,
	credential?: HarnessCredential,
) {
	const h = await host(ids, parameters, credential);
	await h.hook('create');
	const [subscription] = ours(h);
	emu.dropSubscription(subscription.id);
	return { h, subscription };
}

/** One change notification as Graph words it; with encrypted content it is a rich one. */
function notification(
	subscription: EmulatedSubscription,
	userId: string,
	encryptedContent?: PresenceNotification['encryptedContent'],
): PresenceNotification {
	const path = `communications/presences('${userId}')`;
	return {
		subscriptionId: subscription.id,
		clientState: subscription.clientState,
		changeType: 'updated',
		resource: path,
		resourceData: { '@odata.type': '#Microsoft.Graph.presence', '@odata.id': path, id: userId },
		subscriptionExpirationDateTime: subscription.expirationDateTime,
		tenantId: subscription.tenantId,
		...(encryptedContent && { encryptedContent }),
	};
}

/** POSTs the notifications as one delivery and waits until the node has finished with it. */
async function deliver(h: WebhookHost, value: PresenceNotification[]): Promise<void> {
	const response = await fetch(h.webhookUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ value }),
	});
	expect(response.status).toBe(202);
	await h.idle();
}

const presenceRequests = () => emu.requests('/communications/getPresencesByUserId');

describe('Instant Presence Trigger: batched, out-of-order and repeated notifications', () => {
	it('reads all users of one POST (two subscriptions) in one request and emits one item per user, in sequence order', async () => {
		const h = await host(emu.users.slice(100, 800).map((user) => user.id));
		await h.hook('create');
		const [first, second] = ours(h);
		// Eight, so the emulator's shuffled answer is all but never already in sequence order.
		const changed = [0, 1, 2, 3].flatMap((i) => [first.userIds[i], second.userIds[i]]);
		const before = changed.map((id) => emu.effectivePresence(id));
		emu.clearLog();
		// In one tick: Graph puts them all into one POST.
		const after = changed.map((id) => flip(id));
		const [run] = await until('a workflow run', () => (h.runs.length > 0 ? h.runs : undefined));

		const deliveries = emu.deliveries.filter(
			(entry) => entry.kind === 'notification' && entry.url === h.webhookUrl,
		);
		expect(deliveries).toHaveLength(1);
		const { value } = deliveries[0].body as NotificationPayload;
		expect(value).toHaveLength(8);
		expect(new Set(value.map((entry) => entry.subscriptionId))).toEqual(
			new Set([first.id, second.id]),
		);
		expect(presenceRequests()).toHaveLength(1);
		expect([...(presenceRequests()[0].body as { ids: string[] }).ids].sort()).toEqual(
			[...changed].sort(),
		);
		expect(run.map((item) => item.json)).toMatchObject(
			changed.map((id, i) => ({
				id,
				event: 'changed',
				availability: after[i].availability,
				sequenceNumber: after[i].sequenceNumber,
				previous: {
					availability: before[i].availability,
					sequenceNumber: before[i].sequenceNumber,
				},
			})),
		);
	});

	it('basic: repeated and out-of-order users are read once, changes come in sequence order, unchanged users and redeliveries emit nothing', async () => {
		const [a, b, unchanged] = emu.users.slice(60, 63).map((user) => user.id);
		const { h, subscription } = await silencedHost([a, b, unchanged]);
		const newB = flip(b);
		const newA = flip(a);
		// Graph notifies about this one too (its sequence number moves on), but nothing it shows changed.
		const { availability, activity } = emu.effectivePresence(unchanged);
		emu.setPresence(unchanged, { availability, activity });
		emu.clearLog();
		const post = [a, unchanged, b, a, b].map((id) => notification(subscription, id));
		await deliver(h, post);
		expect(presenceRequests()).toHaveLength(1);
		expect([...(presenceRequests()[0].body as { ids: string[] }).ids].sort()).toEqual(
			[a, b, unchanged].sort(),
		);
		expect(h.runs).toHaveLength(1);
		expect(h.runs[0].map((item) => [item.json.id, item.json.sequenceNumber])).toEqual([
			[b, newB.sequenceNumber],
			[a, newA.sequenceNumber],
		]);

		// Graph delivers the same POST again: the presences read have the sequence numbers already seen.
		await deliver(h, post);
		expect(presenceRequests()).toHaveLength(2);
		expect(h.runs).toHaveLength(1);
	});

	it('rich: every version once, in sequence order, whatever order and repeats the POST has, and no request to Graph', async () => {
		const [a, b, unchanged] = emu.users.slice(70, 73).map((user) => user.id);
		const { h, subscription } = await silencedHost(
			[a, b, unchanged],
			{ options: { richNotifications: true } },
			withCertificate(),
		);
		const { publicKey } = new X509Certificate(app.certificatePem);
		const sealed = (presence: Presence) =>
			notification(
				subscription,
				presence.id,
				encryptResource(
					{ '@odata.type': '#Microsoft.Graph.presence', ...presence },
					{ publicKey, thumbprint: 'test' },
					'test',
				),
			);
		const a0 = emu.effectivePresence(a);
		const a1 = flip(a);
		const b1 = flip(b);
		const a2 = flip(a);
		const u0 = emu.effectivePresence(unchanged);
		emu.clearLog();
		await deliver(h, [a2, b1, a1, u0, a2, b1, a1].map(sealed));
		expect(h.runs).toHaveLength(1);
		expect(h.runs[0].map((item) => item.json)).toMatchObject([
			{
				id: a,
				availability: a1.availability,
				sequenceNumber: a1.sequenceNumber,
				previous: { sequenceNumber: a0.sequenceNumber },
			},
			{ id: b, availability: b1.availability, sequenceNumber: b1.sequenceNumber },
			{
				id: a,
				availability: a2.availability,
				sequenceNumber: a2.sequenceNumber,
				previous: { availability: a1.availability, sequenceNumber: a1.sequenceNumber },
			},
		]);
		expect(presenceRequests()).toHaveLength(0);

		// Graph delivers them again: versions already seen.
		await deliver(h, [a1, a2, b1].map(sealed));
		expect(h.runs).toHaveLength(1);
	});
});
