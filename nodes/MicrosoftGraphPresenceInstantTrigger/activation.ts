import { NodeOperationError, type IHookFunctions } from 'n8n-workflow';

import { readPresences } from '../shared/graph/presence';
import { checkNotificationUrl, newClientState } from '../shared/notifications/notifications';
import { diffPresences } from '../shared/presence/presenceDiff';
import { diffOptions } from '../shared/trigger/events';
import { watchedUserIds } from '../shared/trigger/watchedUsers';
import { clientFor, richSettings } from './settings';
import {
	ourSubscriptions,
	subscriptionsHealthy,
	syncSubscriptions,
	type InstantState,
} from './subscriptionUpkeep';
import { deleteSubscription } from '../shared/graph/subscriptions';

/** n8n's webhook lifecycle for the instant trigger: is it subscribed, subscribe, unsubscribe. */

/**
 * At activation (and after n8n restarts): true only when every watched user has a live subscription
 * of ours.
 */
export async function isSubscribed(this: IHookFunctions): Promise<boolean> {
	const state = this.getWorkflowStaticData('node') as InstantState;
	if (state.notificationUrl !== this.getNodeWebhookUrl('default')) return false;
	const client = await clientFor(this);
	const ids = await watchedUserIds(this, client, state, { persist: true, now: Date.now() });
	return await subscriptionsHealthy(client, state, ids, Date.now());
}

/**
 * Subscribes (Graph validates the URL through the webhook meanwhile) and records everyone's
 * presence as the baseline.
 */
export async function subscribe(this: IHookFunctions): Promise<boolean> {
	const url = this.getNodeWebhookUrl('default');
	const check = checkNotificationUrl(url);
	if (!check.ok) throw new NodeOperationError(this.getNode(), check.message);
	const state = this.getWorkflowStaticData('node') as InstantState;
	const now = Date.now();
	const client = await clientFor(this);
	const ids = await watchedUserIds(this, client, state, { persist: true, now });
	state.notificationUrl = url;
	state.clientState = newClientState();
	const users = (state.users = {});
	const { presences } = await readPresences(client, ids);
	diffPresences(users, presences, diffOptions('anyChange', {}), new Date(now).toISOString());
	const { rich } = await richSettings(this);
	await syncSubscriptions(this, client, state, ids, now, rich);
	return true;
}

/** Deactivation: our subscriptions go (already gone is fine), and the state with them. */
export async function unsubscribe(this: IHookFunctions): Promise<boolean> {
	const state = this.getWorkflowStaticData('node') as InstantState;
	const url = state.notificationUrl ?? this.getNodeWebhookUrl('default');
	if (url) {
		const client = await clientFor(this);
		for (const subscription of await ourSubscriptions(client, url)) {
			await deleteSubscription(client, subscription.id);
		}
	}
	delete state.clientState;
	delete state.notificationUrl;
	delete state.users;
	return true;
}
