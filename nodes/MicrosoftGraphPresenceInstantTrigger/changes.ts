import type { INodeExecutionData } from 'n8n-workflow';

import type { Presence } from '../shared/presence/presence';
import {
	diffContents,
	diffPresences,
	type AvailabilityContent,
	type DiffResult,
} from '../shared/presence/presenceDiff';
import { changeItem, diffOptions } from '../shared/trigger/events';
import type { InstantOptions } from './description';
import { commit, type InstantState, type Memory } from './instantState';
import type { InstantContext } from './settings';

/**
 * Turns what the trigger learnt (presences read from Graph, or the content of rich notifications)
 * into the items it emits, against the trigger's memory. Synchronous on purpose: between reading the
 * stored state and writing the new one nothing else of this trigger can run, so concurrent deliveries
 * and the schedule never lose or repeat a transition.
 */
export function applyChanges(
	ctx: InstantContext,
	state: InstantState,
	memory: Memory,
	fresh: { presences?: readonly Presence[]; contents?: readonly AvailabilityContent[] },
	now: number,
): INodeExecutionData[] {
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
	return results.flatMap((result) => result.changes.map(changeItem));
}
