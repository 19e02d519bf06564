import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { includeUserDetailsOption, optionsCollection } from '../../shared/descriptions';

export { authenticationProperty } from '../../shared/descriptions';

const simplifyOption: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: false,
	description:
		"Whether to return flat fields (ID, availability, activity, status message, out of office, work location, sequence number) instead of Graph's presence object",
};

/** Settings that tune the Graph client, plus Simplify; shared by every operation. */
export const optionsProperty: INodeProperties = optionsCollection([
	simplifyOption,
	// Only the reads have users to name; '/operation' is the node's own parameter, outside Options.
	includeUserDetailsOption({ '/operation': ['getMe', 'get', 'getMany'] }),
]);

/** The options of the first item: the client and its budget serve the whole execution. */
export function readOptions(ctx: IExecuteFunctions): Record<string, unknown> {
	return ctx.getNodeParameter('options', 0, {}) as Record<string, unknown>;
}
