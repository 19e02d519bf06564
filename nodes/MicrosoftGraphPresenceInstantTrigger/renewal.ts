import type { ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';

import { watchedUserIds } from '../shared/trigger/watchedUsers';
import { clientFor, richSettings } from './settings';
import { syncSubscriptions, type InstantState } from './subscriptionUpkeep';

/**
 * How often the renewal schedule checks the subscriptions (each lives 55 minutes, renewed with 20
 * left).
 */
const RENEWAL_CRON = '0 */5 * * * *';

/**
 * Renewal that does not wait for a notification: n8n runs trigger() for an active workflow
 * alongside its webhook, so a schedule here checks the subscriptions every five minutes and renews
 * or re-creates them.
 */
export async function startRenewal(this: ITriggerFunctions): Promise<ITriggerResponse> {
	if (this.getMode() === 'manual') return {};
	const renew = async () => {
		try {
			const state = this.getWorkflowStaticData('node') as InstantState;
			const client = await clientFor(this);
			const now = Date.now();
			const ids = await watchedUserIds(this, client, state, { persist: true, now });
			const { rich } = await richSettings(this);
			const result = await syncSubscriptions(this, client, state, ids, now, rich);
			if (result.created + result.renewed + result.deleted > 0) {
				this.logger.info(
					`Microsoft Graph Presence Instant Trigger: subscriptions renewed ${result.renewed}, re-created ${result.created}, removed ${result.deleted}`,
				);
			}
		} catch (error) {
			this.logger.warn(
				`Microsoft Graph Presence Instant Trigger: renewing subscriptions failed, trying again in 5 minutes: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
	};
	this.helpers.registerCron({ expression: RENEWAL_CRON }, () => void renew());
	return {};
}
