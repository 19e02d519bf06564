import type { INodeProperties } from 'n8n-workflow';

/**
 * Where Graph and Entra sign-in live for each national cloud. Tokens of one cloud do not work in
 * another, so both hosts always come from the same row. `custom` is for API gateways, proxies and
 * the project's own test emulator; only there is plain http accepted.
 */

export type CloudName = 'global' | 'usGovL4' | 'usGovL5' | 'china' | 'custom';

export const CLOUD_ENDPOINTS: Record<
	Exclude<CloudName, 'custom'>,
	{ graph: string; login: string }
> = {
	global: { graph: 'https://graph.microsoft.com', login: 'https://login.microsoftonline.com' },
	usGovL4: { graph: 'https://graph.microsoft.us', login: 'https://login.microsoftonline.us' },
	usGovL5: { graph: 'https://dod-graph.microsoft.us', login: 'https://login.microsoftonline.us' },
	china: {
		graph: 'https://microsoftgraph.chinacloudapi.cn',
		login: 'https://login.chinacloudapi.cn',
	},
};

export const CLOUD_OPTIONS = [
	{ name: 'Global (Microsoft Graph)', value: 'global' },
	{ name: 'US Government L4 (GCC High)', value: 'usGovL4' },
	{ name: 'US Government L5 (DoD)', value: 'usGovL5' },
	{ name: 'China (21Vianet)', value: 'china' },
	{ name: 'Custom (Gateway, Proxy or Emulator)', value: 'custom' },
];

export interface CloudEndpoints {
	graphBaseUrl: string;
	loginBaseUrl: string;
}

export function isCloudName(value: unknown): value is CloudName {
	return (
		value === 'custom' ||
		(typeof value === 'string' && Object.prototype.hasOwnProperty.call(CLOUD_ENDPOINTS, value))
	);
}

/** Resolves a credential's cloud to base URLs without a trailing slash, or says what is wrong. */
export function resolveCloud(
	cloud: unknown,
	graphBaseUrl: unknown,
	loginBaseUrl: unknown,
): { ok: true; endpoints: CloudEndpoints } | { ok: false; message: string } {
	if (cloud === undefined || cloud === '') cloud = 'global';
	if (!isCloudName(cloud)) return { ok: false, message: `Unknown cloud "${String(cloud)}"` };
	if (cloud !== 'custom') {
		const row = CLOUD_ENDPOINTS[cloud];
		return { ok: true, endpoints: { graphBaseUrl: row.graph, loginBaseUrl: row.login } };
	}
	const graph = checkUrl('Graph Base URL', graphBaseUrl);
	if (!graph.ok) return graph;
	const login = checkUrl('Login Base URL', loginBaseUrl);
	if (!login.ok) return login;
	return { ok: true, endpoints: { graphBaseUrl: graph.url, loginBaseUrl: login.url } };
}

function checkUrl(
	label: string,
	value: unknown,
): { ok: true; url: string } | { ok: false; message: string } {
	if (typeof value !== 'string' || value.trim() === '') {
		return { ok: false, message: `${label} is required when the cloud is Custom` };
	}
	let parsed: URL;
	try {
		parsed = new URL(value.trim());
	} catch {
		return { ok: false, message: `${label} "${value}" is not a URL` };
	}
	if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
		return { ok: false, message: `${label} "${value}" must start with https:// or http://` };
	}
	return { ok: true, url: parsed.toString().replace(/\/+$/, '') };
}

/**
 * An n8n expression that picks the login (or Graph) host of the credential's own cloud; used by the
 * delegated credential, whose URLs n8n's OAuth2 flow reads from hidden fields.
 */
export function cloudHostExpression(which: 'login' | 'graph'): string {
	const table = JSON.stringify(
		Object.fromEntries(Object.entries(CLOUD_ENDPOINTS).map(([name, row]) => [name, row[which]])),
	);
	const custom = which === 'login' ? '$self.loginBaseUrl' : '$self.graphBaseUrl';
	return `($self.cloud === 'custom' ? String(${custom} || '').replace(/\\/+$/, '') : ${table}[$self.cloud || 'global'])`;
}

/**
 * The cloud fields both credentials start with; `loginDescription` says what the login URL is used
 * for there.
 */
export function cloudFields(loginDescription: string): INodeProperties[] {
	return [
		{
			displayName: 'Cloud',
			name: 'cloud',
			type: 'options',
			options: CLOUD_OPTIONS,
			default: 'global',
			description:
				'The Microsoft cloud your tenant lives in. Presence is documented for Global and US Government.',
		},
		{
			displayName: 'Graph Base URL',
			name: 'graphBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://graph.example.com',
			description: 'Where Graph requests go, without the version (v1.0 or beta is added)',
			displayOptions: { show: { cloud: ['custom'] } },
			required: true,
		},
		{
			displayName: 'Login Base URL',
			name: 'loginBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://login.example.com',
			description: loginDescription,
			displayOptions: { show: { cloud: ['custom'] } },
			required: true,
		},
	];
}
