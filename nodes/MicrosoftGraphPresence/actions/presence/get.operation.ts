import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';

import { parseSingleUserId, type UserRef } from '../../../shared/logic/ids';
import { asNodeError, type GraphClient } from '../../../shared/transport/graphClient';
import { errorItem, presenceJson } from '../output';

export const description: INodeProperties[] = [
	{
		displayName: 'User ID',
		name: 'userId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e or jane@contoso.com',
		description:
			'The user\'s Entra object ID (GUID), user principal name or e-mail address. Names and addresses are looked up first.',
		displayOptions: { show: { operation: ['get'] } },
	},
];

/** One presence per input item; user principal names of all items are resolved together first. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
	simplify: boolean,
): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const refs: Array<UserRef | Error> = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		const value = this.getNodeParameter('userId', itemIndex);
		const parsed = parseSingleUserId(value);
		if (parsed.ok) {
			refs.push(parsed.ref);
			continue;
		}
		const error = new NodeOperationError(this.getNode(), `Item ${itemIndex}: ${parsed.message}`, {
			itemIndex,
			description: 'Use the user\'s Entra object ID (a GUID), user principal name or e-mail address.',
		});
		if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
		refs.push(error);
	}

	const upns = refs.filter((ref): ref is UserRef => !(ref instanceof Error) && ref.kind === 'upn').map((ref) => ref.value);
	const resolved = upns.length > 0 ? await client.resolveUserIds(upns) : new Map();

	return await Promise.all(
		refs.map(async (ref, itemIndex): Promise<INodeExecutionData> => {
			try {
				if (ref instanceof Error) throw ref;
				let id = ref.value;
				if (ref.kind === 'upn') {
					const user = resolved.get(ref.key);
					if (!user || 'notFound' in user) {
						throw new NodeOperationError(this.getNode(), `Item ${itemIndex}: no user "${ref.value}" in this tenant`, {
							itemIndex,
							description: 'Graph found no user with this user principal name. Check the spelling, or use the object ID.',
						});
					}
					if ('error' in user) throw user.error;
					id = user.id;
				}
				const presence = await client.getPresence(id);
				return { json: presenceJson(presence, simplify), pairedItem: { item: itemIndex } };
			} catch (error) {
				if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
				return errorItem(error, itemIndex);
			}
		}),
	);
}
