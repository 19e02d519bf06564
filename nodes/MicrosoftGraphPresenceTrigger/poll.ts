import type { INodeExecutionData, IPollFunctions } from 'n8n-workflow';

import {
	diffPresences,
	forgetUnwatched,
	type PresenceState,
} from '../shared/presence/presenceDiff';
import { readPresences } from '../shared/graph/presence';
import { asNodeError } from '../shared/transport/errors';
import { GraphClient, type Authentication } from '../shared/transport/graphClient';
import {
	changeItems,
	currentItem,
	detailsForItems,
	diffOptions,
	type EventOptions,
} from '../shared/trigger/events';
import { watchedUserIds, type WatchState } from '../shared/trigger/watchedUsers';

/** What the trigger keeps between polls, in the workflow's static data for this node. */
interface TriggerState extends WatchState {
	users?: PresenceState;
}

interface TriggerOptions extends EventOptions {
	emitOnActivation?: boolean;
}

/**
 * One poll: read everyone's presence (650 a request, under the shared throttle), compare with the
 * last good state, emit one item per change. A failed poll in an active workflow is logged and
 * changes nothing, so the next good poll reports exactly what changed since the last good one.
 */
export async function pollPresence(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const manual = this.getMode() === 'manual';
	try {
		return await poll.call(this, manual);
	} catch (error) {
		if (manual) throw asNodeError(this.getNode(), error);
		this.logger.warn(
			`Microsoft Graph Presence Trigger: poll failed, will compare against the last good poll next time: ${error instanceof Error ? error.message : String(error)}`,
		);
		return null;
	}
}

async function poll(this: IPollFunctions, manual: boolean): Promise<INodeExecutionData[][] | null> {
	const options = this.getNodeParameter('options', {}) as TriggerOptions;
	const triggerOn = this.getNodeParameter('triggerOn', 'anyChange') as string;
	const client = await GraphClient.create(
		this,
		this.getNodeParameter('authentication') as Authentication,
		options,
	);
	const state = this.getWorkflowStaticData('node') as TriggerState;
	const now = Date.now();
	const observedAt = new Date(now).toISOString();

	const ids = await watchedUserIds(this, client, state, { persist: !manual, now });
	if (ids.size === 0) return manual ? [[]] : null;

	const { presences, failures } = await readPresences(client, ids);
	if (failures.length > 0 && (manual || presences.length === 0)) throw failures[0];
	// Graph answers in any order; items follow the order the user listed people in.
	const order = new Map([...ids].map((id, index) => [id, index]));
	presences.sort(
		(x, y) => (order.get(x.id.toLowerCase()) ?? 0) - (order.get(y.id.toLowerCase()) ?? 0),
	);
	if (failures.length > 0) {
		this.logger.warn(
			`Microsoft Graph Presence Trigger: ${failures.length} of the poll's requests failed (${failures[0].message}); those users are compared again next poll`,
		);
	}

	if (manual) {
		// "Fetch Test Event": everyone's current presence, to build the rest of the workflow with.
		const users = state.users ?? {};
		const details = await detailsForItems(this, client, options, presences, true);
		return [
			presences.map((presence) =>
				currentItem(presence, users[presence.id.toLowerCase()], observedAt, details),
			),
		];
	}

	const firstPoll = state.users === undefined;
	const users = (state.users ??= {});
	if (failures.length === 0) forgetUnwatched(users, ids);
	const diff = diffPresences(users, presences, diffOptions(triggerOn, options), observedAt);

	const current = firstPoll && options.emitOnActivation ? presences : [];
	// Names only for the users emitted now (a quiet poll looks nobody up), from the cache after once.
	const details = await detailsForItems(
		this,
		client,
		options,
		[...diff.changes.map((change) => change.presence), ...current],
		false,
	);
	const out: INodeExecutionData[] = changeItems(diff.changes, details);
	out.push(...current.map((presence) => currentItem(presence, undefined, observedAt, details)));
	return out.length > 0 ? [out] : null;
}
