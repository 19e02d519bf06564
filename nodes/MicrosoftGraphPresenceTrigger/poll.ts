import { NodeOperationError, type INodeExecutionData, type IPollFunctions } from 'n8n-workflow';

import {
	diffPresences,
	forgetUnwatched,
	storedOf,
	type PresenceState,
} from '../shared/presence/presenceDiff';
import { readPresences } from '../shared/graph/presence';
import { asNodeError } from '../shared/transport/errors';
import {
	GraphClient,
	StartDeadlineError,
	type Authentication,
} from '../shared/transport/graphClient';
import {
	changeItems,
	currentItem,
	detailsForItems,
	type EventOptions,
} from '../shared/trigger/events';
import { diffFor, eventSettings, opening, settle, type EventState } from '../shared/trigger/settle';
import { inWatchedOrder, watchedUserIds, type WatchState } from '../shared/trigger/watchedUsers';
import { pollIntervalMs } from './pollInterval';

/** What the trigger keeps between polls, in the workflow's static data for this node. */
interface TriggerState extends WatchState, EventState {
	users?: PresenceState;
	/** Polls skipped in a row since the last one that read (the app's budget had no room). */
	skippedPolls?: number;
}

interface TriggerOptions extends EventOptions {
	emitOnActivation?: boolean;
}

/**
 * One poll: read everyone's presence (650 a request, under the shared throttle), compare with the
 * last good state, emit one item per change. A failed poll in an active workflow is logged and
 * changes nothing, so the next good poll reports exactly what changed since the last good one;
 * three failed polls in a row are reported through n8n's error path.
 *
 * A poll waits for the app's budget only until the next poll is due (or n8n's time for one poll
 * runs out): a poll that cannot start by then is skipped and counted, not queued behind the others
 * while the budget is spent.
 */
export async function pollPresence(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const manual = this.getMode() === 'manual';
	const startedAt = Date.now();
	try {
		const result = await poll.call(
			this,
			manual,
			manual ? undefined : startedAt + pollWindowMs(this),
		);
		if (!manual) recordFailure(this, false);
		return result;
	} catch (error) {
		if (manual) throw asNodeError(this.getNode(), error);
		if (error instanceof StartDeadlineError) {
			const state = this.getWorkflowStaticData('node') as TriggerState;
			state.skippedPolls = (state.skippedPolls ?? 0) + 1;
			this.logger.warn(
				`Microsoft Graph Presence Trigger: poll skipped (${state.skippedPolls} in a row): it could not start before the next poll is due; the next poll compares against the last good one. ${error.message}`,
			);
			return null;
		}
		const message = error instanceof Error ? error.message : String(error);
		const failed = recordFailure(this, true);
		this.logger.warn(
			`Microsoft Graph Presence Trigger: poll failed (${failed} in a row), will compare against the last good poll next time: ${message}`,
		);
		if (failed >= FAILURES_REPORTED_AFTER) {
			recordFailure(this, false);
			// n8n's error path for a poller: a failed execution in the list, and the error workflow. The
			// workflow stays active and the next good poll reports what changed meanwhile.
			this.__emitError(
				new NodeOperationError(this.getNode(), `Presence changes are not being read: ${message}`, {
					description: `${FAILURES_REPORTED_AFTER} polls in a row failed. Check the credential (consent can be revoked, a secret or refresh token can expire) and its permissions (Presence.Read.All).`,
				}),
			);
		}
		return null;
	}
}

/** After this many failed polls in a row, the trigger reports it through n8n's error path. */
const FAILURES_REPORTED_AFTER = 3;
/** Failed polls in a row per trigger in this process (the poll's static data is not saved on failure). */
const failedPolls = new Map<string, number>();

/** Counts a failed poll (and returns the count), or clears the count. */
function recordFailure(ctx: IPollFunctions, failed: boolean): number {
	const key = `${ctx.getWorkflow().id ?? ''}|${ctx.getNode().id ?? ctx.getNode().name}`;
	const count = failed ? (failedPolls.get(key) ?? 0) + 1 : 0;
	if (count === 0) failedPolls.delete(key);
	else failedPolls.set(key, count);
	return count;
}

/**
 * How long a poll may wait to start: until the next poll is due, and within the time n8n gives one
 * poll (n8n 2.x abandons a poll after it; 1.x has no such limit).
 */
function pollWindowMs(ctx: IPollFunctions): number {
	const interval = pollIntervalMs(ctx.getNodeParameter('pollTimes', {}));
	const budget = (ctx as Partial<Pick<IPollFunctions, 'getPollBudgetMs'>>).getPollBudgetMs?.();
	return typeof budget === 'number' && budget > 0 ? Math.min(interval, budget) : interval;
}

async function poll(
	this: IPollFunctions,
	manual: boolean,
	startBy: number | undefined,
): Promise<INodeExecutionData[][] | null> {
	const options = this.getNodeParameter('options', {}) as TriggerOptions;
	const triggerOn = this.getNodeParameter('triggerOn', 'anyChange') as string;
	const client = await GraphClient.create(
		this,
		this.getNodeParameter('authentication') as Authentication,
		options,
		{ startBy },
	);
	const state = this.getWorkflowStaticData('node') as TriggerState;
	const now = Date.now();
	const observedAt = new Date(now).toISOString();
	const settings = eventSettings(this.getNode(), triggerOn, options, this.getTimezone());

	const ids = await watchedUserIds(this, client, state, { persist: !manual, now });
	if (ids.size === 0) return manual ? [[]] : null;

	const answer = await readPresences(client, ids);
	const { failures } = answer;
	if (failures.length > 0 && (manual || answer.presences.length === 0)) throw failures[0];
	const presences = inWatchedOrder(answer.presences, ids);
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
				currentItem(presence, storedOf(users, presence.id.toLowerCase()), observedAt, details),
			),
		];
	}

	if (state.skippedPolls) {
		this.logger.info(
			`Microsoft Graph Presence Trigger: polling again after ${state.skippedPolls} skipped polls; changes since the last good poll follow`,
		);
		delete state.skippedPolls;
	}
	const firstPoll = state.users === undefined;
	const users = (state.users ??= {});
	if (failures.length === 0) forgetUnwatched(users, ids);
	const opened = opening(state, settings, now);
	const diff = diffPresences(users, presences, diffFor(settings), observedAt);
	const changes = settle(state, diff.changes, settings, now, ids);

	// Outside Active Hours nothing goes out, Emit on Activation included.
	const closed = settings.hours !== undefined && state.active === false;
	const everyone =
		!closed &&
		((firstPoll && options.emitOnActivation === true) ||
			(opened && settings.emitWhenActiveHoursStart));
	const current = everyone ? presences : [];
	// Names only for the users emitted now (a quiet poll looks nobody up), from the cache after once.
	// Everyone's current state says all there is: their changes in this poll are not emitted twice.
	const emitted = everyone ? [] : changes;
	const details = await detailsForItems(
		this,
		client,
		options,
		[...emitted.map((change) => change.presence), ...current],
		false,
	);
	const out: INodeExecutionData[] = changeItems(emitted, details);
	out.push(...current.map((presence) => currentItem(presence, undefined, observedAt, details)));
	return out.length > 0 ? [out] : null;
}
