import type { IDataObject, INodeExecutionData, INodeProperties, Logger } from 'n8n-workflow';

import { includeUserDetailsOption } from '../descriptions';
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

const AVAILABILITIES = [
	'Available',
	'AvailableIdle',
	'Away',
	'BeRightBack',
	'Busy',
	'BusyIdle',
	'DoNotDisturb',
	'Offline',
	'PresenceUnknown',
];
const availabilityOptions = AVAILABILITIES.map((value) => ({
	name: value.replace(/([a-z])([A-Z])/g, '$1 $2'),
	value,
}));

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
		description: 'Only transitions away from one of these availabilities',
	},
	{
		displayName: 'Only To Availability',
		name: 'toAvailability',
		type: 'multiOptions',
		options: availabilityOptions,
		default: [],
		description:
			'Only transitions to one of these availabilities, e.g. Available to route waiting chats',
	},
	includeUserDetailsOption(undefined, true),
];

export interface EventOptions {
	alsoWatch?: WatchedField[];
	toAvailability?: string[];
	fromAvailability?: string[];
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
		toAvailability: options.toAvailability,
		fromAvailability: options.fromAvailability,
	};
}

/**
 * One trigger item. `details` (Include User Details) adds the user's names as flat fields; null for
 * an id Graph knows no user for, undefined when the option is off (nothing added).
 */
export function presenceItem(
	presence: Presence,
	previous: PresenceView | null,
	changed: WatchedField[],
	observedAt: string,
	event: 'changed' | 'current',
	details?: UserDetails | null,
): INodeExecutionData {
	return {
		json: {
			...simplifyPresence(presence),
			...(details === undefined ? {} : detailFields(details)),
			event,
			changed,
			previous: previous ? { ...previous } : null,
			observedAt,
			presence: presence as IDataObject,
		},
	};
}

export function changeItem(change: PresenceChange): INodeExecutionData {
	return presenceItem(
		change.presence,
		change.previous,
		change.changed,
		change.observedAt,
		'changed',
	);
}

/** The items of these changes, with the users' names when `details` is given (detailsForItems). */
export function changeItems(
	changes: readonly PresenceChange[],
	details: ReadonlyMap<string, UserDetails | null> | undefined,
): INodeExecutionData[] {
	if (details === undefined) return changes.map(changeItem);
	return changes.map((change) =>
		presenceItem(
			change.presence,
			change.previous,
			change.changed,
			change.observedAt,
			'changed',
			details.get(change.presence.id.toLowerCase()) ?? null,
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
