import { NodeOperationError, type INode } from 'n8n-workflow';

import { ALL_FIELDS, hold, release, type HeldChanges } from '../presence/hold';
import type { DiffOptions, PresenceChange } from '../presence/presenceDiff';
import { isActive, isTimeZone, parseTimeOfDay, type ActiveHours } from './activeHours';
import { diffOptions, type EventOptions } from './events';

/**
 * The last step of both triggers, between the diff and the items: Hold For (a change must last
 * before it is emitted) and Active Hours (nothing emitted outside them). Both triggers keep the held
 * changes and whether the window was open in their state, so both survive restarts.
 */

export interface EventState {
	held?: HeldChanges;
	/** Whether the last check found Active Hours open (undefined before the first). */
	active?: boolean;
}

export interface EventSettings {
	diff: DiffOptions;
	holdMs: number;
	hours?: ActiveHours;
	emitWhenActiveHoursStart: boolean;
	/** The instant trigger's Several Webhook Processes (DiffOptions.versionGaps). */
	versionGaps?: boolean;
}

/** The trigger's event options, checked: a bad time of day or time zone names the option and the value. */
export function eventSettings(
	node: INode,
	triggerOn: unknown,
	options: EventOptions,
	workflowTimeZone: string,
): EventSettings {
	const minutes = Number(options.holdForMinutes ?? 0);
	if (!(Number.isFinite(minutes) && minutes >= 0)) {
		throw new NodeOperationError(
			node,
			`Hold For must be 0 or more minutes, got ${String(options.holdForMinutes)}`,
		);
	}
	const set = options.activeHours?.hours;
	let hours: ActiveHours | undefined;
	if (set) {
		const from = parseTimeOfDay(set.from ?? '00:00');
		const to = parseTimeOfDay(set.to ?? '24:00');
		const timeZone = set.timeZone?.trim() || workflowTimeZone;
		const bad =
			from === undefined
				? `From "${String(set.from)}" is not a time of day (HH:MM, 24 hours)`
				: to === undefined
					? `To "${String(set.to)}" is not a time of day (HH:MM, 24 hours)`
					: !isTimeZone(timeZone)
						? `"${timeZone}" is not a time zone (e.g. Europe/Berlin)`
						: undefined;
		if (bad !== undefined) throw new NodeOperationError(node, `Active Hours: ${bad}`);
		hours = { days: (set.days ?? []).map(Number), from: from!, to: to!, timeZone };
	}
	return {
		diff: diffOptions(triggerOn, options),
		holdMs: minutes * 60_000,
		hours,
		emitWhenActiveHoursStart: options.emitWhenActiveHoursStart === true,
	};
}

/** What the diff compares: with Hold For every field and no filter (the net transition is judged on release). */
export function diffFor(settings: EventSettings): DiffOptions {
	const diff = settings.holdMs > 0 ? { fields: ALL_FIELDS } : settings.diff;
	return settings.versionGaps ? { ...diff, versionGaps: true } : diff;
}

/** True when Active Hours were closed at the last check and are open now. */
export function opening(events: EventState, settings: EventSettings, now: number): boolean {
	return settings.hours !== undefined && events.active === false && isActive(settings.hours, now);
}

/**
 * The changes to emit now, from the diff's: held ones released when they have lasted, none outside
 * Active Hours. `track` records whether the window is open (the check that decides `opening`); the
 * instant trigger's webhook filters without tracking, its schedule tracks.
 */
export function settle(
	events: EventState,
	changes: readonly PresenceChange[],
	settings: EventSettings,
	now: number,
	watched: ReadonlySet<string>,
	track = true,
): PresenceChange[] {
	let out = [...changes];
	if (settings.holdMs > 0) {
		events.held ??= {};
		hold(events.held, changes, now);
		out = release(events.held, now, settings.holdMs, settings.diff, watched);
		if (Object.keys(events.held).length === 0) delete events.held;
	} else {
		delete events.held;
	}
	if (settings.hours) {
		const active = isActive(settings.hours, now);
		if (track) events.active = active;
		if (!active) return [];
	} else if (track) {
		delete events.active;
	}
	return out;
}
