import type { INodeExecutionData } from 'n8n-workflow';

import type { Presence } from '../shared/presence/presence';
import {
	diffContents,
	diffPresences,
	type AvailabilityContent,
	type DiffResult,
	type PresenceChange,
} from '../shared/presence/presenceDiff';
import { changeItems, detailsForItems, diffOptions } from '../shared/trigger/events';
import type { GraphClient } from '../shared/transport/graphClient';
import type { InstantOptions } from './description';
import { commit, type InstantState, type Memory } from './instantState';
import type { InstantContext } from './settings';

/**
 * Turns what the trigger learnt (presences read from Graph, or the content of rich notifications)
 * into the changes it emits, against the trigger's memory. Synchronous on purpose: between reading the
 * stored state and writing the new one nothing else of this trigger can run, so concurrent deliveries
 * and the schedule never lose or repeat a transition.
 */
export function applyChanges(
	ctx: InstantContext,
	state: InstantState,
	memory: Memory,
	fresh: { presences?: readonly Presence[]; contents?: readonly AvailabilityContent[] },
	now: number,
): PresenceChange[] {
	const options = diffOptions(
		ctx.getNodeParameter('triggerOn', 'anyChange'),
		ctx.getNodeParameter('options', {}) as InstantOptions,
	);
	const observedAt = new Date(now).toISOString();
	const results: DiffResult[] = [];
	// Content first, then what Graph answered when read (it is at least as new).
	if (fresh.contents?.length)
		results.push(diffContents(memory.users, fresh.contents, options, observedAt));
	if (fresh.presences?.length)
		results.push(diffPresences(memory.users, fresh.presences, options, observedAt));
	const changed = results.some((result) => result.changes.length + result.baselined.length > 0);
	if (changed) commit(state, memory);
	return results.flatMap((result) => result.changes);
}

/**
 * The items to emit for these changes, with the users' names when Include User Details is on (from
 * the shared cache; only the changed users are looked up).
 */
export async function itemsOf(
	ctx: InstantContext,
	client: GraphClient,
	changes: readonly PresenceChange[],
): Promise<INodeExecutionData[]> {
	if (changes.length === 0) return [];
	const options = ctx.getNodeParameter('options', {}) as InstantOptions;
	const manual = ctx.getMode() === 'manual';
	const details = await detailsForItems(
		ctx,
		client,
		options,
		changes.map((change) => change.presence),
		manual,
	);
	return changeItems(changes, details);
}
