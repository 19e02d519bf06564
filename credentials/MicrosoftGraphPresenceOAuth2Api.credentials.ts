import type { ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { cloudFields, cloudHostExpression } from '../nodes/shared/transport/clouds';
import { PURPOSE_LABELS } from '../nodes/shared/transport/errors';

/** The preset scopes of version 0.1: what a credential saved before "Used For" existed asks for. */
export const PRESENCE_SCOPES = ['Presence.Read', 'Presence.Read.All', 'User.ReadBasic.All'];

/**
 * What the credential is for, and the delegated scopes each purpose needs (the permissions of the
 * Graph pages each operation calls). Scopes go out in this order, once each.
 */
export const PURPOSES: Array<{
	value: string;
	name: string;
	description: string;
	scopes: string[];
}> = [
	{
		value: 'ownPresence',
		name: PURPOSE_LABELS.ownPresence,
		description: 'Get Me. Presence.Read.',
		scopes: ['Presence.Read'],
	},
	{
		value: 'othersPresence',
		name: PURPOSE_LABELS.othersPresence,
		description:
			'Get User, Get Many, the polling trigger. Presence.Read.All (admin consent in most tenants).',
		scopes: ['Presence.Read.All'],
	},
	{
		value: 'instantTrigger',
		name: PURPOSE_LABELS.instantTrigger,
		description:
			'Presence subscriptions, which Graph accepts only with delegated sign-in. Presence.Read.All.',
		scopes: ['Presence.Read.All'],
	},
	{
		value: 'writePresence',
		name: PURPOSE_LABELS.writePresence,
		description:
			'Set or clear presence, preferred presence, status message, work location. Presence.ReadWrite.',
		scopes: ['Presence.ReadWrite'],
	},
	{
		value: 'userLookups',
		name: PURPOSE_LABELS.userLookups,
		description:
			'Users named by user principal name or e-mail address, Include User Details, the user picker. User.ReadBasic.All.',
		scopes: ['User.ReadBasic.All'],
	},
	{
		value: 'aliasLookups',
		name: PURPOSE_LABELS.aliasLookups,
		description:
			'Users named by an alias (proxyAddresses), which the basic profile does not include. User.Read.All (admin consent).',
		scopes: ['User.Read.All'],
	},
	{
		value: 'groups',
		name: PURPOSE_LABELS.groups,
		description: 'Users From: Group Members. GroupMember.Read.All (admin consent).',
		scopes: ['GroupMember.Read.All'],
	},
];

/** The choice that asks for exactly the preset scopes, so saved credentials keep them. */
export const DEFAULT_PURPOSES = ['ownPresence', 'othersPresence', 'userLookups'];

const SCOPE_ORDER = [
	'Presence.Read',
	'Presence.Read.All',
	'Presence.ReadWrite',
	'User.ReadBasic.All',
	'User.Read.All',
	'GroupMember.Read.All',
];
const SCOPES_BY_PURPOSE = Object.fromEntries(
	PURPOSES.map((purpose) => [purpose.value, purpose.scopes]),
);

const login = cloudHostExpression('login');
const graph = cloudHostExpression('graph');
// n8n evaluates this with the credential's own fields as $self (defaults filled in): the purposes'
// scopes in a fixed order, then Additional Scopes. A credential without the field (saved before it
// existed), or with none ticked (n8n's credential form shows a new multi-select empty, whatever its
// default), counts as the preset, so it asks for exactly what version 0.1 asked for. National clouds
// only accept delegated Graph scopes qualified with their own Graph host.
const purposes = `(Array.isArray($self.purposes) && $self.purposes.length > 0 ? $self.purposes : ${JSON.stringify(DEFAULT_PURPOSES)})`;
const purposeScopes = `${JSON.stringify(SCOPE_ORDER)}.filter((s) => ${purposes}.some((p) => (${JSON.stringify(SCOPES_BY_PURPOSE)}[p] || []).includes(s)))`;
const scopeExpression =
	`={{ ['openid', 'offline_access'].concat(${purposeScopes}` +
	`.concat(String($self.additionalScopes || '').split(/[\\s,]+/).filter((s) => s !== ''))` +
	`.map((s) => ['global', 'custom', '', undefined].includes($self.cloud) || s.includes('/') ? s : ${graph} + '/' + s)).join(' ') }}`;

/**
 * Delegated sign-in (authorization code flow) through n8n's own OAuth2 support, for any national
 * cloud.
 */
export class MicrosoftGraphPresenceOAuth2Api implements ICredentialType {
	name = 'microsoftGraphPresenceOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Microsoft Graph Presence OAuth2 API';

	icon = {
		light: 'file:../nodes/MicrosoftGraphPresence/microsoftGraphPresence.svg',
		dark: 'file:../nodes/MicrosoftGraphPresence/microsoftGraphPresence.dark.svg',
	} as const;

	documentationUrl =
		'https://learn.microsoft.com/en-us/graph/api/presence-get?view=graph-rest-1.0&tabs=http#permissions';

	properties: INodeProperties[] = [
		...cloudFields('Where sign-in goes; the tenant and /oauth2/v2.0/... are added'),
		{
			displayName: 'Tenant',
			name: 'tenant',
			type: 'string',
			default: 'organizations',
			description:
				'Directory (tenant) ID or domain, or "organizations" to let anyone with a work account sign in',
		},
		{
			displayName: 'Used For',
			name: 'purposes',
			type: 'multiOptions',
			options: PURPOSES.map(({ name, value, description }) => ({ name, value, description })),
			default: DEFAULT_PURPOSES,
			description:
				'What the workflows using this credential do: sign-in asks for exactly the scopes these need (plus openid offline_access); none ticked asks for the preset of version 0.1. Changing it needs a reconnect, and the app registration must list the same delegated permissions.',
		},
		{
			displayName: 'Additional Scopes',
			name: 'additionalScopes',
			type: 'string',
			default: '',
			placeholder: 'Presence.ReadWrite.All',
			description: 'Scopes added to those of Used For, separated by spaces',
		},
		{
			displayName: 'Notification Encryption Certificate',
			name: 'notificationCertificate',
			type: 'string',
			typeOptions: { password: true, rows: 4 },
			default: '',
			placeholder: '-----BEGIN CERTIFICATE-----',
			description:
				"Optional, for the Instant Trigger's rich notifications: a PEM certificate Graph encrypts presence changes with",
		},
		{
			displayName: 'Notification Encryption Private Key',
			name: 'notificationPrivateKey',
			type: 'string',
			typeOptions: { password: true, rows: 4 },
			default: '',
			placeholder: '-----BEGIN PRIVATE KEY-----',
			description: 'The PEM private key of that certificate, to decrypt rich notifications',
		},
		{ displayName: 'Grant Type', name: 'grantType', type: 'hidden', default: 'authorizationCode' },
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: `={{ ${login} }}/{{ $self.tenant || 'organizations' }}/oauth2/v2.0/authorize`,
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: `={{ ${login} }}/{{ $self.tenant || 'organizations' }}/oauth2/v2.0/token`,
		},
		{ displayName: 'Scope', name: 'scope', type: 'hidden', default: scopeExpression },
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: 'response_mode=query',
		},
		{ displayName: 'Authentication', name: 'authentication', type: 'hidden', default: 'body' },
	];

	test: ICredentialTestRequest = {
		request: {
			baseURL: `={{ ${graph} }}/v1.0`,
			url: '/me/presence',
		},
	};
}
