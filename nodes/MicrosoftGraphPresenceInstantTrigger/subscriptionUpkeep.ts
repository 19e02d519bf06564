import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import {
	createSubscription,
	deleteSubscription,
	listSubscriptions,
	renewSubscription,
	type Subscription,
} from '../shared/graph/subscriptions';
import {
	BASIC_CERTIFICATE,
	BASIC_SUBSCRIPTION_LABEL,
} from '../shared/notifications/basicCertificate';
import {
	coversExactly,
	expiryFrom,
	isPresenceResource,
	needsRenewal,
	presenceResource,
} from '../shared/notifications/notifications';
import { asNodeError, type Hint } from '../shared/transport/errors';
import type { GraphClient } from '../shared/transport/graphClient';
import type { InstantState } from './instantState';
import type { InstantContext } from './settings';

/**
 * Keeps the one presence subscription Graph allows per signed-in user and app
 * (changenotifications-for-presence) covering the trigger's instant users. Listing with a delegated
 * token shows this app's subscriptions for the signed-in user only (subscription-list), and never
 * their clientState: ours is the one whose notificationUrl is this node's webhook, which we chose;
 * any other presence subscription there is someone else's (another workflow, another n8n, another
 * tool on the same app and account), and while it exists Graph refuses ours with 409.
 */

export interface RichNotifications {
	/** Base64 DER of the certificate Graph encrypts with. */
	certificate: string;
	certificateId: string;
}

export type Upkeep =
	| {
			mode: 'instant';
			action: 'kept' | 'renewed' | 'created';
			subscription: Subscription;
			/** Subscriptions of ours that no longer fitted (other users, another certificate): deleted. */
			replaced: number;
	  }
	/** Nobody to subscribe for. */
	| { mode: 'none'; replaced: number }
	/** The user's one presence subscription for this app is held elsewhere: everyone is polled. */
	| { mode: 'conflict'; holder?: string };

const subscribeHint: Hint = (status) =>
	status === 403
		? 'Presence subscriptions need the delegated credential with Presence.Read.All; application permissions cannot subscribe to presence.'
		: status === 400
			? 'Graph could not validate the webhook URL: it must be reachable from Microsoft over HTTPS and answer its validation request.'
			: undefined;

/** The certificate a subscription is made with: the credential's for rich ones, else the basic one. */
function certificateOf(rich?: RichNotifications): { certificate: string; certificateId: string } {
	return rich ?? { certificate: BASIC_CERTIFICATE, certificateId: BASIC_SUBSCRIPTION_LABEL };
}

/** Whether a subscription of ours still fits: the same users, the same certificate. */
function fits(
	subscription: Subscription,
	ids: readonly string[],
	rich?: RichNotifications,
): boolean {
	if (!coversExactly(subscription.resource, ids)) return false;
	return subscription.encryptionCertificateId === certificateOf(rich).certificateId;
}

function isConflict(error: unknown): boolean {
	return error instanceof NodeApiError && error.httpCode === '409';
}

/**
 * Makes the subscription fit `instant`: keeps it, renews it when it has under 20 minutes left (or when
 * Graph asked for reauthorization: `renewNow`), replaces it when the users or the certificate changed,
 * creates it when there is none. A subscription of ours that we cannot vouch for (the state lost its
 * clientState) is replaced, since deliveries for it would be refused.
 */
export async function ensureSubscription(
	ctx: InstantContext,
	client: GraphClient,
	state: InstantState,
	instant: readonly string[],
	now: number,
	options: { rich?: RichNotifications; renewNow?: boolean } = {},
): Promise<Upkeep> {
	const { notificationUrl, clientState } = state;
	if (!notificationUrl || !clientState) {
		throw new NodeOperationError(
			ctx.getNode(),
			'The trigger is not activated (no subscription state)',
		);
	}
	const presence = (await listSubscriptions(client)).filter((entry) =>
		isPresenceResource(entry.resource),
	);
	let replaced = 0;
	let kept: Subscription | undefined;
	for (const subscription of presence.filter(
		(entry) => entry.notificationUrl === notificationUrl,
	)) {
		if (!kept && instant.length > 0 && fits(subscription, instant, options.rich)) {
			kept = subscription;
			continue;
		}
		await deleteSubscription(client, subscription.id);
		replaced++;
	}
	if (instant.length === 0) return { mode: 'none', replaced };
	if (kept) {
		if (!options.renewNow && !needsRenewal(kept.expirationDateTime, now)) {
			return { mode: 'instant', action: 'kept', subscription: kept, replaced };
		}
		if (await renewSubscription(client, kept.id, expiryFrom(now))) {
			return { mode: 'instant', action: 'renewed', subscription: kept, replaced };
		}
	}
	const holder = presence.find((entry) => entry.notificationUrl !== notificationUrl);
	if (holder) return { mode: 'conflict', holder: holder.notificationUrl };
	const { rich } = options;
	try {
		const subscription = await createSubscription(
			client,
			{
				changeType: 'updated',
				notificationUrl,
				lifecycleNotificationUrl: notificationUrl,
				resource: presenceResource(instant),
				expirationDateTime: expiryFrom(now),
				clientState,
				includeResourceData: rich !== undefined,
				encryptionCertificate: certificateOf(rich).certificate,
				encryptionCertificateId: certificateOf(rich).certificateId,
			},
			subscribeHint,
		);
		return { mode: 'instant', action: 'created', subscription, replaced };
	} catch (error) {
		// Another subscription for this user and app appeared meanwhile (or is not listed to us).
		if (isConflict(error)) return { mode: 'conflict' };
		throw asNodeError(client.node, error);
	}
}

/** Our subscriptions (by notification URL) go; already gone is fine. */
export async function removeSubscriptions(
	client: GraphClient,
	notificationUrl: string,
): Promise<void> {
	for (const subscription of await ourSubscriptions(client, notificationUrl))
		await deleteSubscription(client, subscription.id);
}

/** The subscriptions Graph lists with this notification URL: ours, whatever else it says of them. */
async function ourSubscriptions(client: GraphClient, notificationUrl: string) {
	return (await listSubscriptions(client)).filter(
		(subscription) => subscription.notificationUrl === notificationUrl,
	);
}

/** True when our subscription is live, fits the instant users and is not about to expire. */
export async function subscriptionHealthy(
	client: GraphClient,
	state: InstantState,
	instant: readonly string[],
	now: number,
	rich?: RichNotifications,
): Promise<boolean> {
	if (!state.notificationUrl || !state.clientState || instant.length === 0) return false;
	const ours = await ourSubscriptions(client, state.notificationUrl);
	return (
		ours.length === 1 &&
		fits(ours[0], instant, rich) &&
		!needsRenewal(ours[0].expirationDateTime, now)
	);
}
