import type { INodeProperties } from 'n8n-workflow';

import { clientOptionFields } from './transport/options';

/**
 * Fields that the Presence node and its triggers share, so that saved workflows read the same
 * everywhere.
 */

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

/**
 * Include User Details, the same for the node and both triggers: the names that a Slack message or
 * a digest needs, without a directory lookup of one's own.
 */
export function includeUserDetailsOption(
	show?: Record<string, string[]>,
	flat = false,
): INodeProperties {
	return {
		displayName: 'Include User Details',
		name: 'includeUserDetails',
		type: 'boolean',
		default: false,
		description: `Whether each item also carries the user's display name, user principal name and e-mail address (${
			flat
				? 'displayName, userPrincipalName, mail'
				: 'flat fields with Simplify, a "user" object otherwise'
		}). Looked up in bulk and kept for an hour; needs User.ReadBasic.All (delegated) or User.Read.All (application).`,
		...(show ? { displayOptions: { show } } : {}),
	};
}

/**
 * A node's Options collection: the Graph client's settings plus the node's own options, sorted by
 * name as n8n lists them.
 */
export function optionsCollection(own: INodeProperties[]): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [...clientOptionFields, ...own].sort((a, b) =>
			a.displayName.localeCompare(b.displayName),
		),
	};
}

/**
 * Where Get Many and the triggers take their users from: a list of ids (User IDs, described by the
 * node), or an Entra group's members.
 */
export function usersFromProperties(
	show: Record<string, string[]>,
	userIdsDescription: string,
): INodeProperties[] {
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
		{
			displayName: 'User IDs',
			name: 'userIds',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '',
			required: true,
			placeholder: 'e.g. 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e, jane@contoso.com',
			description: userIdsDescription,
			displayOptions: { show: { ...show, usersFrom: ['userIds'] } },
		},
	];
}

/** Whom a trigger watches: User IDs or a group, whose member list is read on its own schedule. */
export function watchedUsersProperties(userIdsDescription: string): INodeProperties[] {
	return [
		...usersFromProperties({}, userIdsDescription),
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
