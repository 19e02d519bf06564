import { createHash } from 'crypto';
import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { readPresences } from '../shared/graph/presence';
import {
	decryptContent,
	isPresenceContent,
	readDelivery,
	sameSecret,
	type Delivery,
	type Notification,
	type PresenceContent,
} from '../shared/notifications/notifications';
import { checkValidationToken } from '../shared/notifications/validationTokens';
import { forgetUnwatched } from '../shared/presence/presenceDiff';
import type { GraphClient } from '../shared/transport/graphClient';
import { watchedUserIds } from '../shared/trigger/watchedUsers';
import { applyChanges, eventSettingsOf, itemsOf } from './changes';
import { memoryFor, singleFlight, type InstantState, type Memory } from './instantState';
import { clientFor, richSettings, type InstantContext } from './settings';
import { signingKeys } from './signingKeys';
import { upkeep } from './schedule';

const MAX_VALIDATION_TOKEN = 1024;
/** Graph's `missed` re-reads everyone: not more often than this, however many arrive. */
const FULL_READ_SPACING_MS = 30_000;

const LOG = 'Microsoft Graph Presence Instant Trigger';

/** What Graph posts to the trigger's webhook: the validation handshake, change and lifecycle notifications. */
export async function receive(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const request = this.getRequestObject();
	const response = this.getResponseObject();

	// Graph's validation handshake: the decoded token, as plain text, nothing else.
	const token = request.query.validationToken;
	if (token !== undefined) {
		if (typeof token !== 'string' || token.length > MAX_VALIDATION_TOKEN) {
			response.status(400).end();
		} else {
			response
				.status(200)
				.set({ 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
				.send(token);
		}
		return { noWebhookResponse: true };
	}

	const state = this.getWorkflowStaticData('node') as InstantState;
	const clientState = state.clientState;
	const delivery = readDelivery(this.getBodyData());
	const notifications = (delivery?.notifications ?? []).filter(
		(notification) =>
			clientState !== undefined && sameSecret(clientState, notification.clientState),
	);
	// Answer at once (Graph wants 2xx within 3 s); the work below runs after.
	if (!delivery || notifications.length === 0) {
		response.status(401).end();
		return { noWebhookResponse: true };
	}
	response.status(202).end();

	const now = Date.now();
	const memory = memoryFor(this, state);
	const client = await clientFor(this);
	const ids = await watchedUserIds(this, client, state, { persist: true, now });
	forgetUnwatched(memory.users, ids);

	const lifecycle = new Set(notifications.map((notification) => notification.lifecycleEvent));
	if (lifecycle.has('reauthorizationRequired') || lifecycle.has('subscriptionRemoved')) {
		// One upkeep round at a time for this trigger, however many lifecycle events arrive.
		await upkeep(this, client, state, memory, ids, now, lifecycle.has('reauthorizationRequired'));
	}

	const { contents, reread } = await readChanges(this, client, delivery, notifications, ids);
	if (lifecycle.has('missed')) {
		const items = await readEveryone(this, client, state, memory, ids);
		if (items.length > 0) return { workflowData: [items], noWebhookResponse: true };
	}
	const presences = reread.size > 0 ? (await readPresences(client, reread)).presences : [];
	const changes = applyChanges(
		state,
		memory,
		{ contents, presences },
		Date.now(),
		ids,
		eventSettingsOf(this),
		false,
	);
	const items = await itemsOf(this, client, changes);
	return items.length > 0
		? { workflowData: [items], noWebhookResponse: true }
		: { noWebhookResponse: true };
}

/**
 * The users a delivery names, split into what rich content says (decrypted, checked) and who has to
 * be read from Graph: basic notifications, users named twice in one delivery (the content carries no
 * version, so their order is unknown), content encrypted with a certificate we no longer have.
 */
async function readChanges(
	ctx: IWebhookFunctions,
	client: GraphClient,
	delivery: Delivery,
	notifications: Notification[],
	ids: ReadonlySet<string>,
): Promise<{ contents: PresenceContent[]; reread: Set<string> }> {
	const changes = notifications.filter(
		(notification) =>
			!notification.lifecycleEvent && notification.userId && ids.has(notification.userId),
	);
	const reread = new Set<string>();
	const contents: PresenceContent[] = [];
	const rich = changes.filter((notification) => notification.encryptedContent);
	const verdict =
		rich.length > 0 ? await authenticity(ctx, client, delivery, notifications) : 'valid';
	if (verdict === 'forged') return { contents, reread };
	const trusted = verdict === 'valid';
	const { privateKey, rich: current } = await richSettings(ctx);
	const named = new Map<string, number>();
	for (const notification of changes) {
		named.set(notification.userId!, (named.get(notification.userId!) ?? 0) + 1);
	}
	for (const notification of changes) {
		const userId = notification.userId!;
		const encrypted = notification.encryptedContent;
		const ours =
			encrypted?.encryptionCertificateId === undefined ||
			encrypted.encryptionCertificateId === current?.certificateId;
		if (!encrypted || !trusted || !privateKey || !ours || (named.get(userId) ?? 0) > 1) {
			reread.add(userId);
			continue;
		}
		let content: unknown;
		try {
			content = decryptContent(encrypted, privateKey);
		} catch (error) {
			ctx.logger.warn(
				`${LOG}: refused a notification: ${error instanceof Error ? error.message : String(error)}`,
			);
			continue;
		}
		if (!isPresenceContent(content) || content.id.toLowerCase() !== userId) {
			ctx.logger.warn(
				`${LOG}: refused a notification whose content is about another user than it names`,
			);
			continue;
		}
		// A redelivery carries the same encrypted bytes: the digest is the change's version (changeId.ts).
		const notified = createHash('sha256').update(encrypted.data).digest('hex').slice(0, 16);
		contents.push({ ...content, notification: notified });
	}
	return { contents, reread };
}

/**
 * Rich deliveries must prove they come from Microsoft: every validation token is checked against the
 * identity platform's published keys. `forged`: a token is invalid, the delivery is dropped (it was
 * already answered 202, as Microsoft recommends, so a forger learns nothing). `unverifiable`: the keys
 * could not be fetched, or a token names a key not published (yet): the content is not trusted, and
 * the users it names are read from Graph instead, so nothing is lost and nothing forged is believed.
 */
async function authenticity(
	ctx: IWebhookFunctions,
	client: GraphClient,
	delivery: Delivery,
	notifications: Notification[],
): Promise<'valid' | 'forged' | 'unverifiable'> {
	if (delivery.validationTokens.length === 0) {
		ctx.logger.warn(`${LOG}: refused rich notifications without validation tokens`);
		return 'forged';
	}
	const tenantIds = new Set(
		notifications.flatMap((notification) => (notification.tenantId ? [notification.tenantId] : [])),
	);
	const loginBaseUrl = client.endpoints.loginBaseUrl;
	const expected = {
		clientId: client.clientId,
		tenantIds,
		loginBaseUrl,
		now: Math.floor(Date.now() / 1000),
	};
	let keys: Awaited<ReturnType<typeof signingKeys>>;
	try {
		keys = await signingKeys(ctx, loginBaseUrl);
	} catch (error) {
		ctx.logger.warn(
			`${LOG}: could not fetch Microsoft's signing keys, reading the notified users instead: ${error instanceof Error ? error.message : String(error)}`,
		);
		return 'unverifiable';
	}
	let verdict: 'valid' | 'unverifiable' = 'valid';
	for (const token of delivery.validationTokens) {
		let check = checkValidationToken(token, keys, expected);
		if (!check.ok && check.unknownKey) {
			keys = await signingKeys(ctx, loginBaseUrl, { refresh: true }).catch(() => keys);
			check = checkValidationToken(token, keys, expected);
		}
		if (check.ok) continue;
		if (check.unknownKey) {
			verdict = 'unverifiable';
			continue;
		}
		ctx.logger.warn(`${LOG}: refused rich notifications: a validation token is ${check.reason}`);
		return 'forged';
	}
	if (verdict === 'unverifiable') {
		ctx.logger.warn(
			`${LOG}: a validation token names a signing key Microsoft does not publish; reading the notified users instead of trusting the content`,
		);
	}
	return verdict;
}

/** Everyone read again (Graph said it missed notifications): once at a time, and not too often. */
async function readEveryone(
	ctx: InstantContext,
	client: GraphClient,
	state: InstantState,
	memory: Memory,
	ids: ReadonlySet<string>,
) {
	if (Date.now() - memory.lastFullRead < FULL_READ_SPACING_MS) return [];
	const items = await singleFlight(memory, 'fullRead', async () => {
		memory.lastFullRead = Date.now();
		const { presences } = await readPresences(client, ids);
		const settings = eventSettingsOf(ctx);
		const changes = applyChanges(state, memory, { presences }, Date.now(), ids, settings, false);
		return await itemsOf(ctx, client, changes);
	});
	return items ?? [];
}
