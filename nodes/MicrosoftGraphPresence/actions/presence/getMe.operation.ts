import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { getMyPresence } from '../../../shared/graph/presence';
import { myDetails, type UserDetails } from '../../../shared/users/userDetails';
import { readOptions } from '../../descriptions/common';
import { asNodeError } from '../../../shared/transport/errors';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { errorItem, presenceJson } from '../outputItems';

export const description: INodeProperties[] = [
	{
		displayName:
			'Get Me reads the presence of the signed-in user, so it needs the OAuth2 (delegated) credential',
		name: 'getMeNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { operation: ['getMe'], authentication: ['application'] } },
	},
];

/** `GET /me/presence`, once per input item. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
	simplify: boolean,
): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const output: INodeExecutionData[] = [];
	const withDetails = readOptions(this).includeUserDetails === true;
	/** The signed-in user's names, read once for all items. */
	let me: Promise<UserDetails | null> | undefined;
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const presence = await getMyPresence(client);
			me ??= withDetails ? myDetails(client) : undefined;
			output.push({
				json: presenceJson(presence, simplify, me === undefined ? undefined : await me),
				pairedItem: { item: itemIndex },
			});
		} catch (error) {
			if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
			output.push(errorItem(error, itemIndex));
		}
	}
	return output;
}
