import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { simplifyPresence, type Presence } from '../presence/presence';
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
];

export interface EventOptions {
	alsoWatch?: WatchedField[];
	toAvailability?: string[];
	fromAvailability?: string[];
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

export function presenceItem(
	presence: Presence,
	previous: PresenceView | null,
	changed: WatchedField[],
	observedAt: string,
	event: 'changed' | 'current',
): INodeExecutionData {
	return {
		json: {
			...simplifyPresence(presence),
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

export function currentItem(
	presence: Presence,
	stored: StoredPresence | undefined,
	observedAt: string,
): INodeExecutionData {
	return presenceItem(presence, stored ? view(stored) : null, [], observedAt, 'current');
}
