import type { INodeExecutionData } from 'n8n-workflow';

import type { Presence } from '../shared/presence/presence';
import {
	diffContents,
	diffPresences,
	type AvailabilityContent,
	type DiffResult,
	type PresenceChange,
} from '../shared/presence/presenceDiff';
import { changeItems, currentItem, detailsForItems } from '../shared/trigger/events';
import {
	diffFor,
	eventSettings,
	settle,
	type EventSettings,
	type EventState,
} from '../shared/trigger/settle';
import type { GraphClient } from '../shared/transport/graphClient';
import { commit, type InstantState, type Memory } from './instantState';
import { inWatchedOrder } from '../shared/trigger/watchedUsers';
import { instantOptions, type InstantContext } from './settings';

/**
 * Turns what the trigger learnt (presences read from Graph, or the content of rich notifications)
 * into the changes it emits, against the trigger's memory. Synchronous on purpose: between reading the
 * stored state and writing the new one nothing else of this trigger can run, so concurrent deliveries
 * and the schedule never lose or repeat a transition.
 */
export function applyChanges(
	state: InstantState,
	memory: Memory,
	fresh: { presences?: readonly Presence[]; contents?: readonly AvailabilityContent[] },
	now: number,
	watched: ReadonlySet<string>,
	settings: EventSettings,
	/** The schedule records whether Active Hours are open; the webhook only filters by them. */
	track: boolean,
): PresenceChange[] {
	const compare = diffFor(settings);
	const observedAt = new Date(now).toISOString();
	const results: DiffResult[] = [];
	// Content first, then what Graph answered when read (it is at least as new).
	if (fresh.contents?.length)
		results.push(diffContents(memory.users, fresh.contents, compare, observedAt));
	if (fresh.presences?.length)
		results.push(diffPresences(memory.users, fresh.presences, compare, observedAt));
	// Without changes from the diff, settle can only release held changes or record whether Active
	// Hours are open: the held count and the flag say whether the events changed.
	const heldBefore = heldCount(memory.events);
	const activeBefore = memory.events.active;
	const changes = settle(
		memory.events,
		results.flatMap((result) => result.changes),
		settings,
		now,
		watched,
		track,
	);
	const changed =
		results.some((result) => result.changes.length + result.baselined.length > 0) ||
		heldCount(memory.events) !== heldBefore ||
		memory.events.active !== activeBefore;
	if (changed) commit(state, memory);
	return changes;
}

const heldCount = (events: EventState): number =>
	events.held ? Object.keys(events.held).length : -1;

/** The trigger's event settings (filters, Hold For, Active Hours), checked. */
export function eventSettingsOf(ctx: InstantContext): EventSettings {
	const options = instantOptions(ctx);
	const settings = eventSettings(
		ctx.getNode(),
		ctx.getNodeParameter('triggerOn', 'anyChange'),
		options,
		ctx.getTimezone(),
	);
	return options.severalWebhookProcesses === true ? { ...settings, versionGaps: true } : settings;
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
	const options = instantOptions(ctx);
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

/**
 * Everyone's current presence as items (event 'current') in the order the users are listed, with
 * names when Include User Details is on.
 */
export async function currentItemsOf(
	ctx: InstantContext,
	client: GraphClient,
	unordered: readonly Presence[],
	watched: ReadonlySet<string>,
): Promise<INodeExecutionData[]> {
	if (unordered.length === 0) return [];
	const presences = inWatchedOrder(unordered, watched);
	const options = instantOptions(ctx);
	const details = await detailsForItems(
		ctx,
		client,
		options,
		presences,
		ctx.getMode() === 'manual',
	);
	const observedAt = new Date().toISOString();
	return presences.map((presence) => currentItem(presence, undefined, observedAt, details));
}
