import {
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { parseSingleUserId, type UserRef } from '../../../shared/users/ids';
import { getPresence } from '../../../shared/graph/presence';
import { asNodeError } from '../../../shared/transport/errors';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { requireUser, resolveUsers } from '../../../shared/users/resolveUsers';
import { userDetails, type UserDetails } from '../../../shared/users/userDetails';
import { readOptions } from '../../descriptions/common';
import { errorItem, presenceJson } from '../outputItems';

export const description: INodeProperties[] = [
	{
		displayName: 'User',
		name: 'userId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description:
			'The user whose presence to get: pick from the list, or give the Entra object ID, user principal name or e-mail address (names are looked up first)',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Search by name or e-mail…',
				typeOptions: {
					searchListMethod: 'searchUsers',
					searchable: true,
					searchFilterRequired: false,
				},
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e',
				validation: [
					{
						type: 'regex',
						properties: {
							regex:
								'^\\s*\\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}?\\s*$',
							errorMessage: 'Not an Entra object ID (GUID)',
						},
					},
				],
			},
			{
				displayName: 'By User Principal Name or E-Mail',
				name: 'upn',
				type: 'string',
				placeholder: 'e.g. jane@contoso.com',
			},
		],
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
		// Saved workflows may hold a plain string here (from before the picker): extractValue passes it
		// through.
		const value = this.getNodeParameter('userId', itemIndex, '', { extractValue: true });
		const parsed = parseSingleUserId(value);
		if (parsed.ok) {
			refs.push(parsed.ref);
			continue;
		}
		const error = new NodeOperationError(this.getNode(), `Item ${itemIndex}: ${parsed.message}`, {
			itemIndex,
			description:
				"Use the user's Entra object ID (a GUID), user principal name or e-mail address.",
		});
		if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
		refs.push(error);
	}

	const resolve = await resolveUsers(
		client,
		refs.filter((ref): ref is UserRef => !(ref instanceof Error)),
	);
	// Every item's user named in one lookup (users found by name already are, from the cache).
	let details: Map<string, UserDetails | null> | Error | undefined;
	if (readOptions(this).includeUserDetails === true) {
		const ids = refs.flatMap((ref) => {
			if (ref instanceof Error) return [];
			const resolved = resolve(ref);
			return 'id' in resolved ? [resolved.id] : [];
		});
		details = await userDetails(client, ids).catch((error: unknown) =>
			error instanceof Error ? error : new Error(String(error)),
		);
		if (details instanceof Error && !this.continueOnFail()) throw details;
	}
	return await Promise.all(
		refs.map(async (ref, itemIndex): Promise<INodeExecutionData> => {
			try {
				if (ref instanceof Error) throw ref;
				if (details instanceof Error) throw details;
				const id = requireUser(this.getNode(), itemIndex, ref, resolve(ref));
				const presence = await getPresence(client, id);
				return {
					json: presenceJson(
						presence,
						simplify,
						details === undefined ? undefined : (details.get(id.toLowerCase()) ?? null),
					),
					pairedItem: { item: itemIndex },
				};
			} catch (error) {
				if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
				return errorItem(error, itemIndex);
			}
		}),
	);
}
