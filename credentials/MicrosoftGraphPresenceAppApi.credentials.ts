import type { ICredentialType, INodeProperties } from 'n8n-workflow';

import { cloudFields } from '../nodes/shared/transport/clouds';

/**
 * Application permissions: the app signs in as itself (client credentials) through
 * @azure/msal-node, with a client secret or a certificate. Tested by the Presence node (it needs
 * MSAL, which a declarative test request cannot run).
 */
export class MicrosoftGraphPresenceAppApi implements ICredentialType {
	name = 'microsoftGraphPresenceAppApi';

	displayName = 'Microsoft Graph Presence (Application) API';

	icon = {
		light: 'file:../nodes/MicrosoftGraphPresence/microsoftGraphPresence.svg',
		dark: 'file:../nodes/MicrosoftGraphPresence/microsoftGraphPresence.dark.svg',
	} as const;

	documentationUrl =
		'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow';

	properties: INodeProperties[] = [
		...cloudFields('Where tokens come from; the tenant and /oauth2/v2.0/token are added'),
		{
			displayName: 'Tenant ID',
			name: 'tenantId',
			type: 'string',
			default: '',
			required: true,
			placeholder: '00000000-0000-0000-0000-000000000000',
			description: 'Directory (tenant) ID or primary domain of your Entra tenant (not "common")',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			description: 'Application (client) ID of the app registration',
		},
		{
			displayName: 'Authentication Method',
			name: 'authMethod',
			type: 'options',
			options: [
				{ name: 'Client Secret', value: 'secret' },
				{ name: 'Certificate', value: 'certificate' },
			],
			default: 'secret',
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authMethod: ['secret'] } },
		},
		{
			displayName: 'Private Key',
			name: 'privateKey',
			type: 'string',
			typeOptions: { password: true, rows: 5 },
			default: '',
			required: true,
			placeholder: '-----BEGIN PRIVATE KEY-----',
			description: 'PEM private key of the certificate uploaded to the app registration',
			displayOptions: { show: { authMethod: ['certificate'] } },
		},
		{
			displayName: 'Certificate Thumbprint',
			name: 'certificateThumbprint',
			type: 'string',
			default: '',
			required: true,
			description:
				'Thumbprint of that certificate as hex: SHA-256 (64 characters, preferred) or SHA-1 (40 characters, as the Entra portal shows it)',
			displayOptions: { show: { authMethod: ['certificate'] } },
			typeOptions: { password: true },
		},
	];
}
