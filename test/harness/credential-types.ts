import type { ICredentialType, INodeProperties } from 'n8n-workflow';
import { UnexpectedError } from 'n8n-workflow';

/**
 * n8n's generic OAuth2 credential type (n8n-nodes-base `oAuth2Api`), which community OAuth2 credentials
 * `extend`. n8n-nodes-base is not installed here, so the harness carries the properties n8n-core's OAuth2 code
 * reads, with n8n's defaults. Properties marked `doNotInherit` are not merged into child types, as in n8n.
 */
const oAuth2ApiProperties: INodeProperties[] = [
	{
		displayName: 'Use Dynamic Client Registration',
		name: 'useDynamicClientRegistration',
		type: 'hidden',
		default: false,
	},
	{
		displayName: 'Grant Type',
		name: 'grantType',
		type: 'options',
		displayOptions: { show: { useDynamicClientRegistration: [false] } },
		options: [
			{ name: 'Authorization Code', value: 'authorizationCode' },
			{ name: 'Client Credentials', value: 'clientCredentials' },
			{ name: 'PKCE', value: 'pkce' },
		],
		default: 'authorizationCode',
	},
	{
		displayName: 'Authorization URL',
		name: 'authUrl',
		type: 'string',
		displayOptions: {
			show: { grantType: ['authorizationCode', 'pkce'], useDynamicClientRegistration: [false] },
		},
		default: '',
		required: true,
	},
	{
		displayName: 'Access Token URL',
		name: 'accessTokenUrl',
		type: 'string',
		displayOptions: { show: { useDynamicClientRegistration: [false] } },
		default: '',
		required: true,
	},
	{
		displayName: 'Client ID',
		name: 'clientId',
		type: 'string',
		displayOptions: { show: { useDynamicClientRegistration: [false] } },
		default: '',
		required: true,
	},
	{
		displayName: 'Client Secret',
		name: 'clientSecret',
		type: 'string',
		typeOptions: { password: true },
		displayOptions: { show: { useDynamicClientRegistration: [false] } },
		default: '',
		required: true,
	},
	{
		displayName: 'Scope',
		name: 'scope',
		type: 'string',
		displayOptions: { show: { useDynamicClientRegistration: [false] } },
		default: '',
	},
	{
		displayName: 'Auth URI Query Parameters',
		name: 'authQueryParameters',
		type: 'string',
		displayOptions: {
			show: { grantType: ['authorizationCode', 'pkce'], useDynamicClientRegistration: [false] },
		},
		default: '',
	},
	{
		displayName: 'Authentication',
		name: 'authentication',
		type: 'options',
		displayOptions: { show: { useDynamicClientRegistration: [false] } },
		options: [
			{ name: 'Body', value: 'body' },
			{ name: 'Header', value: 'header' },
		],
		default: 'header',
	},
	{
		displayName: 'Ignore SSL Issues (Insecure)',
		name: 'ignoreSSLIssues',
		type: 'boolean',
		default: false,
		doNotInherit: true,
	},
	{
		displayName: 'Token Expired Status Code',
		name: 'tokenExpiredStatusCode',
		type: 'number',
		default: 401,
		doNotInherit: true,
	},
];

export class OAuth2ApiCredentialType implements ICredentialType {
	name = 'oAuth2Api';

	displayName = 'OAuth2 API';

	genericAuth = true;

	properties = oAuth2ApiProperties;
}

/** Credential types n8n always has, added unless the caller passes its own type of the same name. */
export function builtInCredentialTypes(): ICredentialType[] {
	return [new OAuth2ApiCredentialType()];
}

/** The credential types of one run, looked up by name, with n8n's `extends` semantics. */
export class CredentialTypeRegistry {
	private readonly byName = new Map<string, ICredentialType>();

	constructor(types: readonly ICredentialType[]) {
		for (const type of builtInCredentialTypes()) this.byName.set(type.name, type);
		for (const type of types) this.byName.set(type.name, type);
	}

	recognizes(name: string): boolean {
		return this.byName.has(name);
	}

	getByName(name: string): ICredentialType {
		const type = this.byName.get(name);
		if (type === undefined) {
			throw new UnexpectedError(
				`Unknown credential type "${name}": pass it in runWorkflow({ credentialTypes })`,
			);
		}
		return type;
	}

	/** All ancestors through `extends`, nearest first, like n8n's CredentialTypes.getParentTypes. */
	getParentTypes(name: string): string[] {
		const parents = this.byName.get(name)?.extends ?? [];
		return parents.flatMap((parent) => [parent, ...this.getParentTypes(parent)]);
	}

	/** Fully qualified node type names allowed to use a `restrictToSupportedNodes` credential. */
	supportsNode(credentialType: string, nodeType: string): boolean {
		const supported = this.byName.get(credentialType)?.supportedNodes ?? [];
		return supported.some((name) => name === nodeType || nodeType.endsWith(`.${name}`));
	}
}
