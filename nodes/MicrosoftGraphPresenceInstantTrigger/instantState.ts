import {
	compareSequenceNumbers,
	storedOf,
	type PresenceState,
} from '../shared/presence/presenceDiff';
import type { EventState } from '../shared/trigger/settle';
import type { WatchState } from '../shared/trigger/watchedUsers';
import type { InstantContext } from './settings';

/**
 * What the instant trigger knows, and where it lives.
 *
 * The workflow's static data is the durable copy, but n8n hands each webhook request its own copy,
 * loaded from the database when the request arrives and saved when the request is done (last write
 * wins), and the schedule keeps the copy it got at activation, saved only when it emits. Two
 * deliveries at once, or a delivery while the schedule runs, would each compare against a copy that
 * misses the other's changes and then overwrite them. So inside one n8n process the per-user state
 * lives in memory, one record per trigger, shared by the webhook and the schedule; every entry point
 * starts from it (merged with the static data when another process saved newer versions) and
 * writes it back to its own static data copy, so whichever copy n8n saves last holds everything the
 * process knew. The comparisons themselves run without awaiting anything, so they never interleave.
 */

export interface InstantState extends WatchState, EventState {
	/**
	 * The secret every notification must carry: made once per activation lineage and kept across
	 * n8n restarts and re-created subscriptions, so a subscription kept from before still validates.
	 */
	clientState?: string;
	/** This node's webhook URL, where Graph delivers. */
	notificationUrl?: string;
	users?: PresenceState;
	/** Counts every change of `users`, so that the newest copy wins between processes. */
	rev?: number;
}

export interface Memory {
	users: PresenceState;
	/** Held changes (Hold For) and whether Active Hours were open, kept with the users. */
	events: EventState;
	rev: number;
	/** Schedule ticks so far (the first one reads everyone). */
	ticks: number;
	/** Consecutive ticks whose subscription upkeep failed. */
	failures: number;
	/** The last upkeep found the user's one subscription held elsewhere: everyone is polled. */
	conflict: boolean;
	/** When everyone was last read (Graph's `missed`, the safety read). */
	lastFullRead: number;
	/** At most one schedule tick, one upkeep round and one full read in flight per trigger. */
	tick?: Promise<unknown>;
	upkeep?: Promise<unknown>;
	fullRead?: Promise<unknown>;
}

const memories = new Map<string, Memory>();

function keyOf(ctx: InstantContext): string {
	const node = ctx.getNode();
	return `${ctx.getWorkflow().id ?? ''}|${node.id ?? node.name}`;
}

/**
 * The trigger's memory in this process, caught up with the static data when another copy was saved
 * since (another process, several webhook processes): each user's newer version wins, so what one
 * process saw is not forgotten by another, and a copy older than the memory changes nothing.
 */
export function memoryFor(ctx: InstantContext, state: InstantState): Memory {
	const key = keyOf(ctx);
	let memory = memories.get(key);
	if (!memory) {
		memory = {
			users: {},
			events: {},
			rev: -1,
			ticks: 0,
			failures: 0,
			conflict: false,
			lastFullRead: 0,
		};
		memories.set(key, memory);
	}
	const stored = state.rev ?? 0;
	if (stored !== memory.rev) mergeNewer(memory.users, state.users ?? {});
	if (stored > memory.rev) {
		memory.events = { held: state.held ? { ...state.held } : undefined, active: state.active };
		memory.rev = stored;
	}
	return memory;
}

/** Each user's entry from `other` where it is a newer version (by sequence number) or unknown here. */
function mergeNewer(users: PresenceState, other: PresenceState): void {
	for (const [id, entry] of Object.entries(other)) {
		const mine = users[id];
		if (mine === entry) continue;
		const theirs = storedOf(other, id);
		const known = storedOf(users, id);
		if (!known || (theirs && compareSequenceNumbers(theirs.q, known.q) > 0)) users[id] = entry;
	}
}

/** The memory's users go into this entry point's static data copy, with a new revision. */
export function commit(state: InstantState, memory: Memory): void {
	memory.rev = Math.max(memory.rev, state.rev ?? 0) + 1;
	state.users = memory.users;
	if (memory.events.held) state.held = memory.events.held;
	else delete state.held;
	if (memory.events.active !== undefined) state.active = memory.events.active;
	else delete state.active;
	state.rev = memory.rev;
}

/** A new activation lineage starts from the static data alone; deactivation forgets everything. */
export function resetMemory(ctx: InstantContext): void {
	memories.delete(keyOf(ctx));
}

/** Runs `work` unless the same kind of work is already in flight for this trigger; then waits for that one. */
export async function singleFlight<T>(
	memory: Memory,
	slot: 'tick' | 'upkeep' | 'fullRead',
	work: () => Promise<T>,
): Promise<T | undefined> {
	const running = memory[slot];
	if (running) {
		await running.catch(() => undefined);
		return undefined;
	}
	const started = work();
	memory[slot] = started;
	try {
		return await started;
	} finally {
		if (memory[slot] === started) memory[slot] = undefined;
	}
}
