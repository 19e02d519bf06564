import type { INode } from 'n8n-workflow';

import { GraphEmulator } from '../emulator';
import { startWebhookHost, type HarnessCredential, type WebhookHost } from '../harness';
import {
	credentialTypes,
	delegatedCredential,
	findSecrets,
	INSTANT_TYPE,
	instantNodeTypes,
	registerApp,
	secretsOf,
	type TestApp,
} from './support';

/**
 * The Instant Trigger's clientState is the secret every notification is checked with: it is one of the
 * secrets the tests scan for (secretsOf), and it appears in no output item, error or log line, nor in
 * the emulator's own request log (which redacts it, as it does tokens).
 */

let emu: GraphEmulator;
const hosts: WebhookHost[] = [];

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 63 });
	emu.addUsers(10);
});
afterAll(async () => {
	for (const host of hosts) await host.close();
	await emu.stop();
});

async function host(credential: HarnessCredential, userIds: string[]): Promise<WebhookHost> {
	const node: INode = {
		id: 'instant',
		name: 'Presence changed',
		type: INSTANT_TYPE,
		typeVersion: 1,
		position: [0, 0],
		webhookId: `client-state-${hosts.length}`,
		parameters: { userIds: userIds.join(','), triggerOn: 'anyChange', options: {} },
		credentials: { microsoftGraphPresenceOAuth2Api: { id: 'delegated', name: 'Graph' } },
	};
	const started = await startWebhookHost({
		workflow: { id: `wf-cs-${hosts.length}`, nodes: [node], connections: {}, staticData: {} },
		nodeTypes: instantNodeTypes,
		credentialTypes,
		credentials: { delegated: credential },
		node: node.name,
	});
	hosts.push(started);
	return started;
}

async function until(what: string, done: () => boolean): Promise<void> {
	for (const deadline = Date.now() + 10_000; !done(); ) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

/** The node's clientState: what it keeps in its static data to check notifications with. */
const clientStateOf = (h: WebhookHost) =>
	String(
		Object.values(h.staticData()).map((node) => (node as { clientState?: string }).clientState)[0],
	);

describe("the Instant Trigger's clientState", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await registerApp(emu, 'a0a0a0a0-0000-4000-8000-000000000001');
	});

	it('is scanned for, and shows in no output, log or emulator log entry of a trigger that ran', async () => {
		const ids = emu.users.slice(0, 3).map((user) => user.id);
		const h = await host(await delegatedCredential(emu, app), ids);
		expect(await h.hook('create')).toBe(true);
		const clientState = clientStateOf(h);
		expect(clientState.length).toBeGreaterThanOrEqual(32);
		expect(secretsOf(emu, app)).toContain(clientState);

		emu.setPresence(ids[1], { availability: 'Busy', activity: 'InACall' });
		await until('a workflow run', () => h.runs.length > 0);
		// A forged notification is refused without repeating what the node expected.
		const forged = await fetch(h.webhookUrl, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ value: [{ clientState: 'guessed', resourceData: { id: ids[0] } }] }),
		});
		expect(forged.status).toBe(401);
		await h.idle();
		expect(await h.hook('delete')).toBe(true);

		// The emulator saw it (subscription create) and logged it redacted.
		const created = emu.requests('/subscriptions').find((entry) => entry.method === 'POST');
		expect(created?.body).toMatchObject({ clientState: '<redacted>' });
		const secrets = secretsOf(emu, app);
		// (What Graph sent the webhook carries it, of course; what the node answered does not.)
		const answers = h.requests.map((request) => request.text);
		expect(findSecrets([h.runs, h.logs, answers], secrets)).toEqual([]);
		expect(findSecrets(emu.log, secrets)).toEqual([]);
	});

	it('shows in no error when Graph refuses the subscription', async () => {
		// Graph validates the notification URL before it creates a subscription: with the webhook gone
		// it refuses (400), after the node has sent its clientState.
		const h = await host(await delegatedCredential(emu, app), [emu.users[5].id]);
		await h.close();
		const error = await h.hook('create').then(
			() => undefined,
			(caught: unknown) => caught as Error & { description?: string },
		);
		expect(error?.message).toContain('400');
		// Sent with the refused creation (a failed activation saves no static data, as in n8n).
		const sent = emu.requests('/subscriptions').filter((entry) => entry.method === 'POST');
		expect(sent.map((entry) => entry.status).at(-1)).toBe(400);
		expect(emu.clientStatesSeen.length).toBeGreaterThan(0);
		const secrets = secretsOf(emu, app);
		expect(findSecrets([error?.message, error?.description, h.logs], secrets)).toEqual([]);
		expect(findSecrets(emu.log, secrets)).toEqual([]);
	});
});
