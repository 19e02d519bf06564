import type { INodeProperties } from 'n8n-workflow';

import type { GraphClientOptions } from './transport/graphClient';

/** Fields that the Presence node and its triggers share, so that saved workflows read the same everywhere. */

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{
			name: 'OAuth2 (Delegated)',
			value: 'oAuth2',
			description: 'Sign in as a user. Needed for Get Me.',
		},
		{
			name: 'Application (Client Credentials)',
			value: 'application',
			description: 'The app signs in as itself with a client secret or certificate',
		},
	],
	default: 'oAuth2',
};

/** Settings of the Graph client (defaults match DEFAULT_CLIENT_OPTIONS), listed in each node's Options. */
export const clientOptionFields: INodeProperties[] = [
	{
		displayName: 'API Version',
		name: 'apiVersion',
		type: 'options',
		options: [
			{ name: 'v1.0', value: 'v1.0' },
			{ name: 'Beta', value: 'beta' },
		],
		default: 'v1.0',
		description: 'Graph API version. Beta may show newer fields; it can change without notice.',
	},
	{
		displayName: 'Concurrency',
		name: 'concurrency',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 64 },
		default: 8,
		description: 'How many Graph requests may be in flight at once',
	},
	{
		displayName: 'Max Requests per 30 Seconds',
		name: 'maxRequestsPer30Seconds',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 1500 },
		default: 1500,
		description:
			'Graph allows 1,500 presence requests per 30 seconds per app and tenant. The node adapts when other n8n workers or tools spend the same budget; lower this to keep part of it free for them.',
	},
	{
		displayName: 'Max Retries',
		name: 'maxRetries',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 10 },
		default: 5,
		description:
			'How often a throttled (429), unavailable (503, 504) or dropped request is tried again',
	},
	{
		displayName: 'Max Retry Wait (Seconds)',
		name: 'maxRetryWaitSeconds',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 180 },
		default: 180,
		description: "The longest single wait before a retry, whatever Graph's Retry-After says",
	},
	{
		displayName: 'Timeout (Seconds)',
		name: 'timeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 300 },
		default: 30,
		description: 'How long one Graph request may take before it is dropped and retried',
	},
];

/** Picks the Graph client's settings out of a node's Options collection. */
export function clientOptions(options: Record<string, unknown>): Partial<GraphClientOptions> {
	const picked: Record<string, unknown> = {};
	for (const field of clientOptionFields)
		if (options[field.name] !== undefined) picked[field.name] = options[field.name];
	return picked as Partial<GraphClientOptions>;
}

/** Where Get Many and the trigger take their users from: a list of ids, or an Entra group's members. */
export function usersFromProperties(show: Record<string, string[]>): INodeProperties[] {
	return [
		{
			displayName: 'Users From',
			name: 'usersFrom',
			type: 'options',
			options: [
				{
					name: 'User IDs',
					value: 'userIds',
					description: 'Object IDs, user principal names or e-mail addresses',
				},
				{
					name: 'Group Members',
					value: 'group',
					description: 'Everyone in an Entra group, nested groups included',
				},
			],
			default: 'userIds',
			displayOptions: { show },
		},
		{
			displayName: 'Group',
			name: 'group',
			type: 'string',
			default: '',
			required: true,
			placeholder: "e.g. Support Team, or the group's object ID",
			description:
				'The Entra group (object ID or exact display name) whose members to use: transitive (members of nested groups too), users only. Needs GroupMember.Read.All.',
			displayOptions: { show: { ...show, usersFrom: ['group'] } },
		},
	];
}

/** Whom a trigger watches: User IDs or a group, whose member list is read on its own schedule. */
export function watchedUsersProperties(userIdsDescription: string): INodeProperties[] {
	return [
		...usersFromProperties({}),
		{
			displayName: 'User IDs',
			name: 'userIds',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '',
			required: true,
			placeholder: 'e.g. 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e, jane@contoso.com',
			description: userIdsDescription,
			displayOptions: { show: { usersFrom: ['userIds'] } },
		},
		{
			displayName: 'Refresh Group Members Every (Minutes)',
			name: 'groupRefreshMinutes',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 60,
			description:
				"How often the group's member list is read again; in between, only presence is read",
			displayOptions: { show: { usersFrom: ['group'] } },
		},
	];
}
