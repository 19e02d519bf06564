import type { IDataObject, INodeExecutionData, INodeProperties, Logger } from 'n8n-workflow';

import { includeUserDetailsOption } from '../descriptions';
import { WEEK_DAYS } from './activeHours';
import { changeIdOf } from '../presence/changeId';
import { simplifyPresence, type Presence } from '../presence/presence';
import { asNodeError } from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';
import { detailFields, userDetails, type UserDetails } from '../users/userDetails';
import {
	view,
	type DiffOptions,
	type PresenceChange,
	type PresenceView,
	type StoredPresence,
	type WatchedField,
} from '../presence/presenceDiff';

/**
 * What both presence triggers emit and how they filter, so a workflow can switch between them
 * unchanged.
 */

/**
 * The values Graph documents (the presence resource; newer pages add AvailableInactive and Focusing).
 * Both are open sets: an expression in these fields may name any other value, compared
 * case-insensitively.
 */
const AVAILABILITIES = [
	'Available',
	'AvailableIdle',
	'AvailableInactive',
	'Away',
	'BeRightBack',
	'Busy',
	'BusyIdle',
	'DoNotDisturb',
	'Offline',
	'PresenceUnknown',
];
const ACTIVITIES = [
	'Available',
	'Away',
	'BeRightBack',
	'Busy',
	'DoNotDisturb',
	'Focusing',
	'InACall',
	'InAConferenceCall',
	'Inactive',
	'InAMeeting',
	'Offline',
	'OffWork',
	'OutOfOffice',
	'PresenceUnknown',
	'Presenting',
	'UrgentInterruptionsOnly',
];
const spaced = (value: string) => ({ name: value.replace(/([a-z])([A-Z])/g, '$1 $2'), value });
const availabilityOptions = AVAILABILITIES.map(spaced);
const activityOptions = ACTIVITIES.map(spaced);
const OTHER_VALUES =
	' Other values (Graph adds new ones): switch the field to Expression and give a list, e.g. {{ ["Focusing"] }}.';

export const triggerOnProperty: INodeProperties = {
	displayName: 'Trigger On',
	name: 'triggerOn',
	type: 'options',
	options: [
		{
			name: 'Any Change',
			value: 'anyChange',
			description: 'Availability or activity changed (and whatever Also Watch adds)',
		},
		{
			name: 'Availability Changed',
			value: 'availabilityChanged',
			description: 'For example Busy → Available',
		},
		{
			name: 'Activity Changed',
			value: 'activityChanged',
			description: 'For example InAMeeting → InACall',
		},
	],
	default: 'anyChange',
};

export const eventOptionFields: INodeProperties[] = [
	{
		displayName: 'Also Watch',
		name: 'alsoWatch',
		type: 'multiOptions',
		options: [
			{ name: 'Out of Office', value: 'outOfOffice' },
			{ name: 'Status Message', value: 'statusMessage' },
			{ name: 'Work Location', value: 'workLocation' },
		],
		default: [],
		description: 'Changes of these count as events too',
	},
	{
		displayName: 'Only From Availability',
		name: 'fromAvailability',
		type: 'multiOptions',
		options: availabilityOptions,
		default: [],
		description: `Only transitions away from one of these availabilities.${OTHER_VALUES}`,
	},
	{
		displayName: 'Only To Availability',
		name: 'toAvailability',
		type: 'multiOptions',
		options: availabilityOptions,
		default: [],
		description: `Only transitions to one of these availabilities, e.g. Available to route waiting chats.${OTHER_VALUES}`,
	},
	{
		displayName: 'Only From Activity',
		name: 'fromActivity',
		type: 'multiOptions',
		options: activityOptions,
		default: [],
		description: `Only transitions away from one of these activities, e.g. Presenting when a talk ends.${OTHER_VALUES}`,
	},
	{
		displayName: 'Only To Activity',
		name: 'toActivity',
		type: 'multiOptions',
		options: activityOptions,
		default: [],
		description: `Only transitions to one of these activities, e.g. Presenting or InACall.${OTHER_VALUES}`,
	},
	{
		displayName: 'Hold For (Minutes)',
		name: 'holdForMinutes',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			'Emit a change only once the new state has lasted this long; a state that flips back within it emits nothing (Teams turns people Away after a few idle minutes and flips Busy around meetings). 0 emits every change at once. Checked on every poll (the Instant Trigger: every minute), so the wait is rounded up to that.',
	},
	{
		displayName: 'Active Hours',
		name: 'activeHours',
		type: 'fixedCollection',
		default: {},
		placeholder: 'Add Active Hours',
		description:
			'Emit only on these days between these times; outside them, changes are recorded but not emitted',
		options: [
			{
				displayName: 'Hours',
				name: 'hours',
				values: [
					{
						displayName: 'Days',
						name: 'days',
						type: 'multiOptions',
						options: WEEK_DAYS.map((day, index) => ({ name: day, value: index })),
						default: [1, 2, 3, 4, 5],
						description: 'None chosen means every day',
					},
					{
						displayName: 'From',
						name: 'from',
						type: 'string',
						default: '08:00',
						placeholder: 'HH:MM',
						description: 'Start, 24-hour time; a From after To runs past midnight (22:00–06:00)',
					},
					{
						displayName: 'To',
						name: 'to',
						type: 'string',
						default: '18:00',
						placeholder: 'HH:MM',
						description: 'End, 24-hour time (not included)',
					},
					{
						displayName: 'Time Zone',
						name: 'timeZone',
						type: 'string',
						default: '',
						placeholder: 'e.g. Europe/Berlin',
						description: "Empty uses the workflow's time zone",
					},
				],
			},
		],
	},
	{
		displayName: 'Emit Everyone When Active Hours Start',
		name: 'emitWhenActiveHoursStart',
		type: 'boolean',
		default: false,
		description:
			"Whether the first poll inside Active Hours emits everyone's current presence once (event 'current'), so a board or a routing list starts the day complete",
	},
	includeUserDetailsOption(undefined, true),
];

export interface EventOptions {
	alsoWatch?: WatchedField[];
	toAvailability?: string[];
	fromAvailability?: string[];
	toActivity?: string[];
	fromActivity?: string[];
	holdForMinutes?: number;
	activeHours?: { hours?: { days?: number[]; from?: string; to?: string; timeZone?: string } };
	emitWhenActiveHoursStart?: boolean;
	includeUserDetails?: boolean;
	[key: string]: unknown;
}

export function diffOptions(triggerOn: unknown, options: EventOptions): DiffOptions {
	const base: WatchedField[] =
		triggerOn === 'availabilityChanged'
			? ['availability']
			: triggerOn === 'activityChanged'
				? ['activity']
				: ['availability', 'activity'];
	return {
		fields: [...base, ...(options.alsoWatch ?? [])],
		toAvailability: listOf(options.toAvailability),
		fromAvailability: listOf(options.fromAvailability),
		toActivity: listOf(options.toActivity),
		fromActivity: listOf(options.fromActivity),
	};
}

/** A filter list as typed in an expression may be one value or a comma-separated text too. */
function listOf(value: unknown): string[] | undefined {
	if (Array.isArray(value)) return value.map(String);
	if (typeof value === 'string' && value.trim() !== '') return value.split(/\s*,\s*/);
	return undefined;
}

/**
 * One trigger item. `details` (Include User Details) adds the user's names as flat fields; null for
 * an id Graph knows no user for, undefined when the option is off (nothing added). `changeId`
 * names the user and the version (changeId.ts), for de-duplicating downstream.
 */
export function presenceItem(
	presence: Presence,
	previous: PresenceView | null,
	changed: WatchedField[],
	observedAt: string,
	event: 'changed' | 'current',
	details?: UserDetails | null,
	notification?: string,
): INodeExecutionData {
	return {
		json: {
			...simplifyPresence(presence),
			...(details === undefined ? {} : detailFields(details)),
			event,
			changeId: changeIdOf(presence, observedAt, notification),
			changed,
			previous: previous ? { ...previous } : null,
			observedAt,
			presence: presence as IDataObject,
		},
	};
}

/** The items of these changes, with the users' names when `details` is given (detailsForItems). */
export function changeItems(
	changes: readonly PresenceChange[],
	details: ReadonlyMap<string, UserDetails | null> | undefined,
): INodeExecutionData[] {
	return changes.map((change) =>
		presenceItem(
			change.presence,
			change.previous,
			change.changed,
			change.observedAt,
			'changed',
			details && (details.get(change.presence.id.toLowerCase()) ?? null),
			change.notification,
		),
	);
}

export function currentItem(
	presence: Presence,
	stored: StoredPresence | undefined,
	observedAt: string,
	details?: ReadonlyMap<string, UserDetails | null>,
): INodeExecutionData {
	return presenceItem(
		presence,
		stored ? view(stored) : null,
		[],
		observedAt,
		'current',
		details && (details.get(presence.id.toLowerCase()) ?? null),
	);
}

/**
 * Include User Details for a trigger: the names of the users about to be emitted (only those, and
 * from the per-process cache after the first time), or undefined when the option is off. A lookup
 * that fails is Graph's error in a manual run; in an active workflow the items go out without names
 * (null) and a warning is logged, so a missing permission never swallows a change.
 */
export async function detailsForItems(
	ctx: { logger: Logger },
	client: GraphClient,
	options: EventOptions,
	presences: Iterable<Presence>,
	manual: boolean,
): Promise<ReadonlyMap<string, UserDetails | null> | undefined> {
	if (options.includeUserDetails !== true) return undefined;
	const ids = [...presences].map((presence) => presence.id);
	if (ids.length === 0) return new Map();
	try {
		return await userDetails(client, ids);
	} catch (error) {
		if (manual) throw asNodeError(client.node, error);
		ctx.logger.warn(
			`Microsoft Graph Presence: user details could not be read, items go out without names: ${error instanceof Error ? error.message : String(error)}`,
		);
		return new Map();
	}
}
