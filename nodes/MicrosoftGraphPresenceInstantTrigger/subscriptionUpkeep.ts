import { NodeOperationError } from 'n8n-workflow';

import {
	createSubscription,
	deleteSubscription,
	listSubscriptions,
	renewSubscription,
	type Subscription,
} from '../shared/graph/subscriptions';
import {
	expiryFrom,
	needsRenewal,
	plannedResources,
	sameResource,
} from '../shared/notifications/notifications';
import type { PresenceState } from '../shared/presence/presenceDiff';
import type { Hint } from '../shared/transport/errors';
import type { GraphClient } from '../shared/transport/graphClient';
import type { WatchState } from '../shared/trigger/watchedUsers';
import type { InstantContext } from './settings';

/**
 * Keeps Graph's subscriptions in line with the watched users. Nothing here depends on remembering
 * subscription ids: ours are found by their notification URL, so renewal works from any context
 * (the renewal schedule, a lifecycle notification, n8n's activation check) and survives a lost or
 * stale state.
 */

export interface InstantState extends WatchState {
	/**
	 * The secret every notification must carry; one per activation, reused by re-created
	 * subscriptions.
	 */
	clientState?: string;
	/** This node's webhook URL, where Graph delivers. */
	notificationUrl?: string;
	users?: PresenceState;
}

export interface RichNotifications {
	/** Base64 DER of the certificate Graph encrypts with. */
	certificate: string;
	certificateId: string;
}

export interface SyncResult {
	created: number;
	renewed: number;
	deleted: number;
	kept: number;
}

export async function ourSubscriptions(
	client: GraphClient,
	notificationUrl: string,
): Promise<Subscription[]> {
	return (await listSubscriptions(client)).filter(
		(entry) => entry.notificationUrl === notificationUrl,
	);
}

const subscribeHint: Hint = (status) =>
	status === 403
		? 'Presence subscriptions need the delegated credential with Presence.Read.All; application permissions cannot subscribe to presence.'
		: status === 400
			? 'Graph could not validate the webhook URL: it must be reachable from Microsoft over HTTPS and answer its validation request.'
			: undefined;

/**
 * Makes Graph's subscriptions cover exactly the watched users: renews those that expire soon,
 * re-creates those Graph no longer knows, removes those for users no longer watched.
 */
export async function syncSubscriptions(
	ctx: InstantContext,
	client: GraphClient,
	state: InstantState,
	ids: ReadonlySet<string>,
	now: number,
	rich?: RichNotifications,
	/** Graph asked for reauthorization: renew every subscription now, whatever time it has left. */
	forceRenew = false,
): Promise<SyncResult> {
	const { notificationUrl, clientState } = state;
	if (!notificationUrl || !clientState) {
		throw new NodeOperationError(
			ctx.getNode(),
			'The trigger is not activated (no subscription state)',
		);
	}
	const wanted = plannedResources([...ids]);
	const covered = new Set<number>();
	const result: SyncResult = { created: 0, renewed: 0, deleted: 0, kept: 0 };
	for (const subscription of await ourSubscriptions(client, notificationUrl)) {
		const index = wanted.findIndex(
			(resource, i) => !covered.has(i) && sameResource(resource, subscription.resource),
		);
		if (index < 0) {
			await deleteSubscription(client, subscription.id);
			result.deleted++;
			continue;
		}
		if (!forceRenew && !needsRenewal(subscription.expirationDateTime, now)) {
			covered.add(index);
			result.kept++;
			continue;
		}
		if (await renewSubscription(client, subscription.id, expiryFrom(now))) {
			covered.add(index);
			result.renewed++;
		}
	}
	for (const [index, resource] of wanted.entries()) {
		if (covered.has(index)) continue;
		const body = {
			changeType: 'updated',
			notificationUrl,
			lifecycleNotificationUrl: notificationUrl,
			resource,
			expirationDateTime: expiryFrom(now),
			clientState,
			...(rich
				? {
						includeResourceData: true,
						encryptionCertificate: rich.certificate,
						encryptionCertificateId: rich.certificateId,
					}
				: {}),
		};
		await createSubscription(client, body, subscribeHint);
		result.created++;
	}
	return result;
}

/**
 * True when every watched user is covered by a subscription of ours that is not about to expire.
 */
export async function subscriptionsHealthy(
	client: GraphClient,
	state: InstantState,
	ids: ReadonlySet<string>,
	now: number,
): Promise<boolean> {
	if (!state.notificationUrl || !state.clientState) return false;
	const wanted = plannedResources([...ids]);
	const ours = await ourSubscriptions(client, state.notificationUrl);
	return (
		ours.length === wanted.length &&
		wanted.every((resource) =>
			ours.some(
				(subscription) =>
					sameResource(resource, subscription.resource) &&
					!needsRenewal(subscription.expirationDateTime, now),
			),
		)
	);
}
