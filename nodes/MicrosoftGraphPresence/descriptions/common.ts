import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { GraphClientOptions } from '../../shared/transport/graphClient';

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

/** Settings that tune the Graph client; shared by every operation. Defaults match DEFAULT_CLIENT_OPTIONS. */
export const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
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
				'Graph allows 1,500 presence requests per 30 seconds per app and tenant. Lower it when other tools use the same app registration.',
		},
		{
			displayName: 'Max Retries',
			name: 'maxRetries',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 10 },
			default: 5,
			description: 'How often a throttled (429), unavailable (503, 504) or dropped request is tried again',
		},
		{
			displayName: 'Max Retry Wait (Seconds)',
			name: 'maxRetryWaitSeconds',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 180 },
			default: 180,
			description: 'The longest single wait before a retry, whatever Graph\'s Retry-After says',
		},
		{
			displayName: 'Simplify',
			name: 'simplify',
			type: 'boolean',
			default: false,
			description:
				'Whether to return flat fields (ID, availability, activity, status message, out of office, work location, sequence number) instead of Graph\'s presence object',
		},
		{
			displayName: 'Timeout (Seconds)',
			name: 'timeoutSeconds',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 300 },
			default: 30,
			description: 'How long one Graph request may take before it is dropped and retried',
		},
	],
};

export interface NodeOptions extends Partial<GraphClientOptions> {
	simplify?: boolean;
}

/** The options of the first item: the client and its budget serve the whole execution. */
export function readOptions(ctx: IExecuteFunctions): NodeOptions {
	return ctx.getNodeParameter('options', 0, {}) as NodeOptions;
}
