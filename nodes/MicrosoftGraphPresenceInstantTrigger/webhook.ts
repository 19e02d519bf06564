import type { INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { readPresences } from '../shared/graph/presence';
import {
	decryptContent,
	readNotifications,
	sameSecret,
} from '../shared/notifications/notifications';
import { isPresence, type Presence } from '../shared/presence/presence';
import { diffPresences, forgetUnwatched, inSequenceOrder } from '../shared/presence/presenceDiff';
import { changeItems, detailsForItems, diffOptions } from '../shared/trigger/events';
import { watchedUserIds } from '../shared/trigger/watchedUsers';
import { clientFor, instantOptions, richSettings } from './settings';
import { syncSubscriptions, type InstantState } from './subscriptionUpkeep';

const MAX_VALIDATION_TOKEN = 1024;

/**
 * What Graph posts to the trigger's webhook: the validation handshake, change and lifecycle
 * notifications.
 */
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
	const notifications = (readNotifications(this.getBodyData()) ?? []).filter(
		(notification) =>
			clientState !== undefined && sameSecret(clientState, notification.clientState),
	);
	// Answer at once (Graph wants 2xx within 3 s); the work below runs after.
	if (notifications.length === 0) {
		response.status(401).end();
		return { noWebhookResponse: true };
	}
	response.status(202).end();

	const now = Date.now();
	const client = await clientFor(this);
	const ids = await watchedUserIds(this, client, state, { persist: true, now });
	const lifecycle = notifications.filter((notification) => notification.lifecycleEvent);
	if (lifecycle.some((notification) => notification.lifecycleEvent !== 'missed')) {
		const { rich } = await richSettings(this);
		const reauthorize = lifecycle.some(
			(notification) => notification.lifecycleEvent === 'reauthorizationRequired',
		);
		await syncSubscriptions(this, client, state, ids, now, rich, reauthorize);
	}

	// Users to compare: those named in change notifications, or everyone when Graph says it missed
	// some.
	const missed = lifecycle.some((notification) => notification.lifecycleEvent === 'missed');
	const changed = new Set<string>(missed ? ids : []);
	const decrypted: Presence[] = [];
	const { privateKey } = await richSettings(this);
	for (const notification of notifications) {
		if (notification.lifecycleEvent || !notification.userId || !ids.has(notification.userId))
			continue;
		if (notification.encryptedContent && privateKey) {
			try {
				const content = decryptContent(notification.encryptedContent, privateKey);
				if (isPresence(content)) {
					decrypted.push(content);
					continue;
				}
			} catch (error) {
				this.logger.warn(
					`Microsoft Graph Presence Instant Trigger: refused a notification: ${error instanceof Error ? error.message : String(error)}`,
				);
				continue;
			}
		}
		changed.add(notification.userId);
	}
	const fetched = changed.size > 0 ? (await readPresences(client, changed)).presences : [];

	const users = (state.users ??= {});
	forgetUnwatched(users, ids);
	// Several notifications for one user arrive in any order: oldest version first, so each change is
	// seen once.
	const presences = inSequenceOrder([...decrypted, ...fetched]);
	const options = instantOptions(this);
	const diff = diffPresences(
		users,
		presences,
		diffOptions(this.getNodeParameter('triggerOn', 'anyChange'), options),
		new Date(now).toISOString(),
	);
	// Include User Details: names of the changed users only, from the per-process cache after once.
	const details = await detailsForItems(
		this,
		client,
		options,
		diff.changes.map((change) => change.presence),
		false,
	);
	const items: INodeExecutionData[] = changeItems(diff.changes, details);
	return items.length > 0
		? { workflowData: [items], noWebhookResponse: true }
		: { noWebhookResponse: true };
}
