import { NodeOperationError, type ITriggerFunctions, type ITriggerResponse } from 'n8n-workflow';

import { readPresences } from '../shared/graph/presence';
import { MAX_IDS_PER_REQUEST } from '../shared/presence/batching';
import type { Presence } from '../shared/presence/presence';
import { splitWatched } from '../shared/notifications/notifications';
import { forgetUnwatched } from '../shared/presence/presenceDiff';
import type { GraphClient } from '../shared/transport/graphClient';
import { opening } from '../shared/trigger/settle';
import { watchedUserIds } from '../shared/trigger/watchedUsers';
import { applyChanges, currentItemsOf, eventSettingsOf, itemsOf } from './changes';
import { memoryFor, singleFlight, type InstantState, type Memory } from './instantState';
import { clientFor, instantOptions, richSettings, type InstantContext } from './settings';
import { ensureSubscription } from './subscriptionUpkeep';

/**
 * The trigger's own schedule, which n8n runs beside its webhook for as long as the workflow is active
 * (trigger()): every minute it keeps the subscription alive (renewed with 20 minutes left, re-created
 * when Graph lost it, taken up again when another holder let go) and reads the users who are not in
 * the subscription; every fifth minute it also reads the instant users, in case Graph failed to
 * deliver something. Nothing here waits for a notification, so a trigger without changes for hours
 * keeps working, and a trigger that cannot keep working says so through n8n.
 */

const EVERY_MINUTE = '0 * * * * *';
/** The instant users are read again this often (in ticks), to catch what Graph did not deliver. */
const SAFETY_READ_TICKS = 5;
/** After this many ticks in a row that failed, the trigger reports it through n8n's error path. */
const FAILURES_REPORTED_AFTER = 3;

const LOG = 'Microsoft Graph Presence Instant Trigger';

export async function startSchedule(this: ITriggerFunctions): Promise<ITriggerResponse> {
	if (this.getMode() === 'manual') return {};
	// The tick's promise is returned (n8n's cron ignores it; it never rejects) so that a test can await it.
	this.helpers.registerCron({ expression: EVERY_MINUTE }, async () => await tick(this));
	return {};
}

/** How often the users beyond the subscription are read, in minutes. */
export function pollMinutes(ctx: InstantContext): number {
	const value = Number(instantOptions(ctx).pollMinutes ?? 1);
	return Number.isFinite(value) && value >= 1 ? Math.floor(value) : 1;
}

/** The log's warning when the user's one subscription is held elsewhere and everyone is polled. */
export function conflictWarning(
	holder: string | undefined,
	ids: ReadonlySet<string>,
	minutes: number,
): string {
	return `${LOG}: Graph allows one presence subscription per signed-in user and app, and this account's is held by ${holder ?? 'another subscriber'}; ${describeSplit(ids, true, minutes)} until it is free. For instant notifications use another sign-in account or app registration in this credential.`;
}

/** What the trigger does for whom, for the log: instant users, polled users, how often and at what cost. */
export function describeSplit(
	ids: ReadonlySet<string>,
	conflict: boolean,
	minutes: number,
): string {
	const { instant, polled } = splitWatched(ids);
	const every = `every ${minutes === 1 ? 'minute' : `${minutes} minutes`}`;
	if (conflict) {
		const requests = Math.ceil(ids.size / MAX_IDS_PER_REQUEST);
		return `all ${ids.size} watched users polled ${every} (${requests} request(s) each time)`;
	}
	const requests = Math.ceil(polled.length / MAX_IDS_PER_REQUEST);
	return polled.length === 0
		? `${instant.length} watched users, all instant (one subscription)`
		: `${ids.size} watched users: ${instant.length} instant (one subscription), ${polled.length} polled ${every} (${requests} request(s) each time)`;
}

async function tick(ctx: ITriggerFunctions): Promise<void> {
	const state = ctx.getWorkflowStaticData('node') as InstantState;
	const memory = memoryFor(ctx, state);
	// A tick still running (a slow Graph, a long throttle wait) is not overlapped by the next one.
	await singleFlight(memory, 'tick', async () => {
		try {
			await runTick(ctx, state, memory);
			memory.failures = 0;
		} catch (error) {
			memory.failures++;
			const message = error instanceof Error ? error.message : String(error);
			ctx.logger.warn(
				`${LOG}: the schedule failed (${memory.failures} time(s) in a row): ${message}`,
			);
			if (memory.failures >= FAILURES_REPORTED_AFTER) {
				memory.failures = 0;
				ctx.emitError(
					new NodeOperationError(
						ctx.getNode(),
						`Presence changes are not being received: ${message}`,
						{
							description: `The trigger failed ${FAILURES_REPORTED_AFTER} minutes in a row to keep its Graph subscription or to read presence. Check the credential (consent can be revoked, a refresh token can expire) and its permissions (Presence.Read.All, delegated). n8n deactivates the workflow and tries to activate it again.`,
						},
					),
				);
			}
		}
	});
}

async function runTick(ctx: ITriggerFunctions, state: InstantState, memory: Memory): Promise<void> {
	memory.ticks++;
	const now = Date.now();
	const client = await clientFor(ctx);
	const ids = await watchedUserIds(ctx, client, state, { persist: true, now });
	forgetUnwatched(memory.users, ids);
	// The users beyond the subscription are read even when the upkeep failed; the failure is reported after.
	let problem: unknown;
	try {
		await upkeep(ctx, client, state, memory, ids, now, false);
	} catch (error) {
		problem = error;
	}

	const { instant, polled } = splitWatched(ids);
	const first = memory.ticks === 1;
	const due = (every: number) => first || (memory.ticks - 1) % every === 0;
	const settings = eventSettingsOf(ctx);
	// Emit Everyone When Active Hours Start: everyone is read and emitted as they are.
	const everyone = settings.emitWhenActiveHoursStart && opening(memory.events, settings, now);
	const read = new Set<string>();
	if (everyone || memory.conflict || due(SAFETY_READ_TICKS)) for (const id of instant) read.add(id);
	if (everyone || memory.conflict || due(pollMinutes(ctx))) for (const id of polled) read.add(id);
	let presences: Presence[] = [];
	if (read.size > 0) {
		const answer = await readPresences(client, read);
		presences = answer.presences;
		problem ??= answer.failures[0];
	}
	// Every tick, read or not: held changes that lasted are released, Active Hours are tracked.
	const changes = applyChanges(state, memory, { presences }, Date.now(), ids, settings, true);
	const items = everyone
		? await currentItemsOf(ctx, client, presences, ids)
		: await itemsOf(ctx, client, changes);
	if (items.length > 0) ctx.emit([items]);
	if (problem !== undefined) throw problem;
}

/**
 * One upkeep round of the subscription (the schedule's, or one a lifecycle notification asked for):
 * at most one in flight per trigger. Entering and leaving the polling fallback is logged.
 */
export async function upkeep(
	ctx: InstantContext,
	client: GraphClient,
	state: InstantState,
	memory: Memory,
	ids: ReadonlySet<string>,
	now: number,
	renewNow: boolean,
): Promise<void> {
	await singleFlight(memory, 'upkeep', async () => {
		const { rich } = await richSettings(ctx);
		const result = await ensureSubscription(ctx, client, state, splitWatched(ids).instant, now, {
			rich,
			renewNow,
		});
		const conflict = result.mode === 'conflict';
		if (conflict && !memory.conflict) {
			ctx.logger.warn(conflictWarning(result.holder, ids, pollMinutes(ctx)));
		} else if (!conflict && memory.conflict) {
			ctx.logger.info(`${LOG}: subscribed again; ${describeSplit(ids, false, pollMinutes(ctx))}`);
		}
		memory.conflict = conflict;
		if (result.mode === 'instant' && (result.action !== 'kept' || result.replaced > 0)) {
			ctx.logger.info(
				`${LOG}: subscription ${result.action}${result.replaced > 0 ? `, ${result.replaced} replaced` : ''}`,
			);
		}
	});
}
