import { NodeOperationError, type IHookFunctions } from 'n8n-workflow';

import { readPresences } from '../shared/graph/presence';
import {
	checkNotificationUrl,
	newClientState,
	splitWatched,
} from '../shared/notifications/notifications';
import { diffPresences } from '../shared/presence/presenceDiff';
import { diffOptions } from '../shared/trigger/events';
import { watchedUserIds } from '../shared/trigger/watchedUsers';
import { memoryFor, resetMemory, type InstantState } from './instantState';
import { conflictWarning, describeSplit, pollMinutes } from './schedule';
import { clientFor, richSettings } from './settings';
import { ensureSubscription, removeSubscriptions, subscriptionHealthy } from './subscriptionUpkeep';

/** n8n's webhook lifecycle for the instant trigger: is it subscribed, subscribe, unsubscribe. */

const LOG = 'Microsoft Graph Presence Instant Trigger';

/**
 * At activation (and after n8n restarts): true only when our subscription is live, fits the watched
 * users and the certificate, and has time left. Otherwise n8n calls `subscribe`.
 */
export async function isSubscribed(this: IHookFunctions): Promise<boolean> {
	const state = this.getWorkflowStaticData('node') as InstantState;
	if (state.notificationUrl !== this.getNodeWebhookUrl('default')) return false;
	const client = await clientFor(this);
	const now = Date.now();
	const ids = await watchedUserIds(this, client, state, { persist: true, now });
	const { rich } = await richSettings(this);
	return await subscriptionHealthy(client, state, splitWatched(ids).instant, now, rich);
}

/**
 * Subscribes (Graph validates the URL through the webhook meanwhile). The clientState of an earlier
 * activation is kept (n8n calls this again after a restart, and a subscription kept from before
 * carries it), and so is what the trigger knew of each user, so the first schedule tick reports what
 * changed while n8n was down; users seen for the first time are recorded as the baseline.
 */
export async function subscribe(this: IHookFunctions): Promise<boolean> {
	const url = this.getNodeWebhookUrl('default');
	const check = checkNotificationUrl(url);
	if (!check.ok) throw new NodeOperationError(this.getNode(), check.message);
	const state = this.getWorkflowStaticData('node') as InstantState;
	const now = Date.now();
	const client = await clientFor(this);
	const ids = await watchedUserIds(this, client, state, { persist: true, now });
	if (state.notificationUrl !== url) {
		// The webhook URL changed (N8N_WEBHOOK_URL, a restored workflow): the old subscription is ours but
		// delivers elsewhere, and would hold the user's one subscription until it expired.
		if (state.notificationUrl) await removeSubscriptions(client, state.notificationUrl);
		delete state.clientState;
	}
	state.notificationUrl = url;
	state.clientState ??= newClientState();
	resetMemory(this);

	const users = (state.users ??= {});
	const unknown = new Set([...ids].filter((id) => users[id] === undefined));
	if (unknown.size > 0) {
		const { presences } = await readPresences(client, unknown);
		diffPresences(users, presences, diffOptions('anyChange', {}), new Date(now).toISOString());
	}
	state.rev = (state.rev ?? 0) + 1;

	const { rich } = await richSettings(this);
	const result = await ensureSubscription(this, client, state, splitWatched(ids).instant, now, {
		rich,
	});
	const conflict = result.mode === 'conflict';
	// The schedule starts from what activation found, so that it can say when the subscription is free.
	memoryFor(this, state).conflict = conflict;
	if (conflict && this.getMode() === 'manual') {
		throw new NodeOperationError(
			this.getNode(),
			"Graph allows one presence subscription per signed-in user and app, and this credential's is in use",
			{
				description: `Held by ${result.holder ?? 'another subscriber'} (an active workflow with this credential, another n8n, or another tool on the same app). Deactivate it to listen for a test event here, or use Fetch Test Event of the polling trigger.`,
			},
		);
	}
	if (conflict) this.logger.warn(conflictWarning(result.holder, ids, pollMinutes(this)));
	else this.logger.info(`${LOG}: ${describeSplit(ids, false, pollMinutes(this))}`);
	return true;
}

/** Deactivation: our subscription goes (already gone is fine), and the state with it. */
export async function unsubscribe(this: IHookFunctions): Promise<boolean> {
	const state = this.getWorkflowStaticData('node') as InstantState;
	const url = state.notificationUrl ?? this.getNodeWebhookUrl('default');
	if (url) await removeSubscriptions(await clientFor(this), url);
	delete state.clientState;
	delete state.notificationUrl;
	delete state.users;
	delete state.rev;
	resetMemory(this);
	return true;
}
