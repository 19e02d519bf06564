import type { ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { cloudFields, cloudHostExpression } from '../nodes/shared/transport/clouds';

export const PRESENCE_SCOPES = ['Presence.Read', 'Presence.Read.All', 'User.ReadBasic.All'];

const login = cloudHostExpression('login');
const graph = cloudHostExpression('graph');
// National clouds only accept delegated Graph scopes qualified with their own Graph host.
const scopeExpression =
	`={{ ['openid', 'offline_access'].concat(${JSON.stringify(PRESENCE_SCOPES)}` +
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
			displayName: 'Additional Scopes',
			name: 'additionalScopes',
			type: 'string',
			default: '',
			placeholder: 'Presence.ReadWrite',
			description: `Added to the preset scopes (openid offline_access ${PRESENCE_SCOPES.join(' ')}), separated by spaces`,
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
