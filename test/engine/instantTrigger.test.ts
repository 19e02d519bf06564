import type { INode, INodeParameters } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import { startWebhookHost, type HarnessCredential, type WebhookHost } from '../harness';
import { credentialTypes, delegatedCredential, INSTANT_TYPE, instantNodeTypes, registerApp, type TestApp } from './support';

let emu: GraphEmulator;
let app: TestApp;
let delegated: HarnessCredential;
const hosts: WebhookHost[] = [];

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 41 });
	emu.addUsers(1400);
	app = await registerApp(emu, 'eeeeeeee-0000-4000-8000-000000000001');
	delegated = await delegatedCredential(emu, app);
});
afterAll(async () => {
	for (const host of hosts) await host.close();
	await emu.stop();
});
beforeEach(() => emu.clearLog());

async function host(userIds: string[], parameters: INodeParameters = {}, credential: HarnessCredential = delegated): Promise<WebhookHost> {
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

const ours = (h: WebhookHost) => emu.subscriptions.filter((subscription) => subscription.notificationUrl === h.webhookUrl);
const flip = (id: string) =>
	emu.setPresence(id, emu.effectivePresence(id).availability === 'Available' ? { availability: 'Busy', activity: 'InACall' } : { availability: 'Available', activity: 'Available' });

describe('Instant Presence Trigger (Graph change notifications)', () => {
	it('subscribes on activation, answering Graph\'s validation with the token as plain text', async () => {
		const ids = emu.users.slice(0, 3).map((user) => user.id);
		const h = await host(ids);
		expect(await h.hook('checkExists')).toBe(false);
		expect(await h.hook('create')).toBe(true);
		const [subscription] = ours(h);
		expect(ours(h)).toHaveLength(1);
		expect(subscription.userIds).toEqual([...ids].sort());
		expect(subscription.changeType).toBe('updated');
		expect(subscription.lifecycleNotificationUrl).toBe(h.webhookUrl);
		expect(Date.parse(String(subscription.expirationDateTime)) - Date.now()).toBeLessThanOrEqual(60 * 60_000);
		const validations = h.requests.filter((request) => request.query.validationToken);
		expect(validations.length).toBeGreaterThanOrEqual(2);
		for (const validation of validations) expect([validation.status, validation.text]).toEqual([200, validation.query.validationToken]);
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
		const delivery = emu.deliveries.find((entry) => entry.kind === 'notification' && entry.url === h.webhookUrl);
		expect(delivery?.status).toBe(202);
		expect(emu.requests('/communications/getPresencesByUserId').at(-1)?.body).toEqual({ ids: [ids[1]] });
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
				body: JSON.stringify({ value: [{ subscriptionId: subscription.id, clientState, changeType: 'updated', resourceData: { id: ids[0] } }] }),
			});
		expect((await forged('guessed')).status).toBe(401);
		expect((await forged(undefined)).status).toBe(401);
		const long = await fetch(`${h.webhookUrl}?validationToken=${'x'.repeat(2000)}`, { method: 'POST' });
		expect(long.status).toBe(400);
		const html = await fetch(`${h.webhookUrl}?validationToken=${encodeURIComponent('<script>x</script>')}`, { method: 'POST' });
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
			body: JSON.stringify({ expirationDateTime: new Date(Date.now() + 10 * 60_000).toISOString() }),
		});
		emu.clearLog();
		await ticks[0].tick();
		await until('a renewal', () => emu.requests(`/subscriptions/${subscription.id}`).find((entry) => entry.method === 'PATCH' && entry.status === 200));
		expect(Date.parse(String(ours(h)[0].expirationDateTime)) - Date.now()).toBeGreaterThan(50 * 60_000);

		// Graph forgot it: the next tick creates a new one with the same secret, so notifications keep validating.
		emu.dropSubscription(subscription.id);
		await ticks[0].tick();
		const recreated = await until('a new subscription', () => ours(h).find((entry) => entry.id !== subscription.id));
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
		await until('a renewal', () => emu.requests(`/subscriptions/${subscription.id}`).find((entry) => entry.method === 'PATCH' && entry.status === 200));
		await emu.sendLifecycleEvent(subscription.id, 'subscriptionRemoved');
		await until('a re-created subscription', () => ours(h).find((entry) => entry.id !== subscription.id));
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
		const withCertificate: HarnessCredential = {
			...delegated,
			data: { ...delegated.data, notificationCertificate: app.certificatePem, notificationPrivateKey: app.privateKey },
		};
		const h = await host(ids, { options: { richNotifications: true } }, withCertificate);
		await h.hook('create');
		expect(ours(h)[0].includeResourceData).toBe(true);
		emu.clearLog();
		const after = flip(ids[0]);
		const [run] = await until('a run', () => (h.runs.length > 0 ? h.runs : undefined));
		expect(run[0].json).toMatchObject({ id: ids[0], availability: after.availability });
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(0);

		emu.tamperNextSignature();
		flip(ids[1]);
		await until('the tampered delivery', () => emu.deliveries.find((entry) => entry.kind === 'notification' && entry.url === h.webhookUrl && JSON.stringify(entry.body).includes(ids[1])));
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(h.runs).toHaveLength(1);
		expect(h.logs.join('\n')).toContain('signature does not match');
	});
});

