import type { INodeProperties } from 'n8n-workflow';

import { authenticationProperty, clientOptionFields, usersFromProperties } from '../shared/descriptions';

const AVAILABILITIES = ['Available', 'AvailableIdle', 'Away', 'BeRightBack', 'Busy', 'BusyIdle', 'DoNotDisturb', 'Offline', 'PresenceUnknown'];
const availabilityOptions = AVAILABILITIES.map((value) => ({ name: value.replace(/([a-z])([A-Z])/g, '$1 $2'), value }));

export const properties: INodeProperties[] = [
	authenticationProperty,
	...usersFromProperties({}),
	{
		displayName: 'User IDs',
		name: 'userIds',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		required: true,
		placeholder: 'e.g. 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e, jane@contoso.com',
		description:
			'Whom to watch: Entra object IDs (GUIDs), user principal names or e-mail addresses, separated by commas, semicolons, spaces or new lines, or an expression giving a list. Every poll reads all of them, 650 per Graph request.',
		displayOptions: { show: { usersFrom: ['userIds'] } },
	},
	{
		displayName: 'Refresh Group Members Every (Minutes)',
		name: 'groupRefreshMinutes',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 60,
		description: 'How often the group\'s member list is read again; between refreshes, polls only read presence',
		displayOptions: { show: { usersFrom: ['group'] } },
	},
	{
		displayName: 'Trigger On',
		name: 'triggerOn',
		type: 'options',
		options: [
			{ name: 'Any Change', value: 'anyChange', description: 'Availability or activity changed (and whatever Also Watch adds)' },
			{ name: 'Availability Changed', value: 'availabilityChanged', description: 'For example Busy → Available' },
			{ name: 'Activity Changed', value: 'activityChanged', description: 'For example InAMeeting → InACall' },
		],
		default: 'anyChange',
	},
	{
		displayName:
			'Each poll costs one Graph request per 650 watched users. Graph allows 1,500 presence requests per 30 seconds for the app, shared with every other workflow using it.',
		name: 'budgetNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: ([
			...clientOptionFields,
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
				displayName: 'Emit Current Presence on Activation',
				name: 'emitOnActivation',
				type: 'boolean',
				default: false,
				description:
					'Whether the first poll after activation emits everyone\'s current presence once (otherwise it only records it, and later polls emit changes)',
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
				description: 'Only transitions to one of these availabilities, e.g. Available to route waiting chats',
			},
		] as INodeProperties[]).sort((a, b) => a.displayName.localeCompare(b.displayName)),
	},
];
