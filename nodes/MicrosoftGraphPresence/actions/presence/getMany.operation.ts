import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import {
	gatherUsers,
	MAX_IDS_PER_REQUEST,
	type RequestedUser,
} from '../../../shared/presence/batching';
import { parseUserIds, type UserRef } from '../../../shared/users/ids';
import { indexById } from '../../../shared/presence/presence';
import { usersFromProperties } from '../../../shared/descriptions';
import {
	asNodeError,
	type GraphClient,
	type PresenceBatch,
} from '../../../shared/transport/graphClient';
import { errorItem, presenceJson } from '../outputItems';

export const description: INodeProperties[] = [
	...usersFromProperties({ operation: ['getMany'] }),
	{
		displayName: 'User IDs',
		name: 'userIds',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		required: true,
		placeholder: 'e.g. 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e, jane@contoso.com',
		description:
			'Entra object IDs (GUIDs), user principal names or e-mail addresses: one, several separated by commas, semicolons, spaces or new lines, or an expression giving a list. IDs from all input items are gathered, duplicates removed, and read 650 per Graph request.',
		displayOptions: { show: { operation: ['getMany'], usersFrom: ['userIds'] } },
	},
];

/**
 * Gathers ids from every input item, de-duplicates them case-insensitively, resolves names in bulk, reads
 * presence 650 ids a request under the shared throttle, and puts out one item per user, paired to every
 * item that asked for it. Nobody is silently dropped: users Graph does not know come out marked `notFound`.
 */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
	simplify: boolean,
): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const output: INodeExecutionData[] = [];
	const perItem: Array<{ itemIndex: number; refs: UserRef[] }> = [];
	const groups = new Map<string, { group: string; itemIndexes: number[] }>();
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		if (this.getNodeParameter('usersFrom', itemIndex, 'userIds') === 'group') {
			const group = this.getNodeParameter('group', itemIndex);
			if (typeof group !== 'string' || group.trim() === '') {
				const error = new NodeOperationError(this.getNode(), `Item ${itemIndex}: no group given`, {
					itemIndex,
				});
				if (!this.continueOnFail()) throw error;
				output.push(errorItem(error, itemIndex));
				continue;
			}
			const key = group.trim().toLowerCase();
			(
				groups.get(key) ?? groups.set(key, { group: group.trim(), itemIndexes: [] }).get(key)!
			).itemIndexes.push(itemIndex);
			continue;
		}
		const value = this.getNodeParameter('userIds', itemIndex);
		const parsed = parseUserIds(value);
		if (parsed.ok) {
			perItem.push({ itemIndex, refs: parsed.refs });
			continue;
		}
		const error = new NodeOperationError(this.getNode(), `Item ${itemIndex}: ${parsed.message}`, {
			itemIndex,
			description:
				'Give Entra object IDs (GUIDs), user principal names or e-mail addresses, separated by commas, semicolons, spaces or new lines, or a list of them.',
		});
		if (!this.continueOnFail()) throw error;
		output.push(errorItem(error, itemIndex));
	}

	// A group's members count as ids asked for by every item that named the group.
	for (const { group, itemIndexes } of groups.values()) {
		let members: string[];
		try {
			members = await client.groupMemberIds(group);
		} catch (error) {
			if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
			output.push(errorItem(error, itemIndexes, { group }));
			continue;
		}
		const refs = members.map((id): UserRef => ({ kind: 'guid', value: id, key: id }));
		for (const itemIndex of itemIndexes) perItem.push({ itemIndex, refs });
	}
	perItem.sort((a, b) => a.itemIndex - b.itemIndex);

	const requested = gatherUsers(perItem);
	const upns = requested.filter((user) => user.ref.kind === 'upn').map((user) => user.ref.value);
	const resolved = upns.length > 0 ? await client.resolveUserIds(upns) : new Map();

	// Users named once by GUID and once by UPN are one user: merge them under the object id. With GUIDs only
	// (the usual case) every requested user already is one object id, in order, and nothing is merged.
	let ids: string[];
	let users: RequestedUser[];
	const unresolved: Array<{ user: RequestedUser; result: { notFound: true } | { error: Error } }> =
		[];
	if (upns.length === 0) {
		users = requested;
		ids = requested.map((user) => user.ref.value);
	} else {
		const byId = new Map<string, RequestedUser>();
		for (const user of requested) {
			let id = user.ref.value;
			if (user.ref.kind === 'upn') {
				const found = resolved.get(user.ref.key);
				if (!found || !('id' in found)) {
					unresolved.push({ user, result: found && 'error' in found ? found : { notFound: true } });
					continue;
				}
				id = found.id;
			}
			const known = byId.get(id);
			if (known)
				known.itemIndexes = [...new Set([...known.itemIndexes, ...user.itemIndexes])].sort(
					(a, b) => a - b,
				);
			else byId.set(id, user);
		}
		ids = [...byId.keys()];
		users = [...byId.values()];
	}
	const lookupFailure = unresolved.find(({ result }) => 'error' in result);
	if (lookupFailure && 'error' in lookupFailure.result && !this.continueOnFail())
		throw lookupFailure.result.error;

	// Answers become items as they come in, while later requests are still on the way; the items go out in the
	// order the users were asked for. Batches are consecutive slices of `ids`: the user of an id is at the same
	// place in `users`, and Graph's answer (any order, unknown ids left out) is looked up per batch.
	const itemsOfBatch: INodeExecutionData[][] = [];
	let outOfOrder = false;
	const toItems = (batch: PresenceBatch, index: number): void => {
		if (batch.result instanceof Error) return;
		const answer = indexById(batch.result);
		const items: INodeExecutionData[] = [];
		let position = index * MAX_IDS_PER_REQUEST;
		for (const id of batch.ids) {
			if (ids[position] !== id) {
				outOfOrder = true;
				return;
			}
			const { itemIndexes } = users[position++];
			const presence = answer.get(id);
			items.push(
				presence
					? { json: presenceJson(presence, simplify), pairedItem: pairedItems(itemIndexes) }
					: {
							json: notFound(id, 'Graph returned no presence for this ID'),
							pairedItem: pairedItems(itemIndexes),
						},
			);
		}
		itemsOfBatch[index] = items;
	};
	const batches = await client.getManyPresences(ids, toItems);
	for (const batch of batches) {
		if (batch.result instanceof Error && !this.continueOnFail()) throw batch.result;
	}
	for (const [index, batch] of batches.entries()) {
		if (batch.result instanceof Error) {
			let position = index * MAX_IDS_PER_REQUEST;
			for (const id of batch.ids) {
				if (ids[position] !== id) {
					outOfOrder = true;
					break;
				}
				output.push(errorItem(batch.result, users[position++].itemIndexes, { id }));
			}
			continue;
		}
		if (itemsOfBatch[index] === undefined) toItems(batch, index);
		for (const item of itemsOfBatch[index] ?? []) output.push(item);
	}
	if (outOfOrder)
		throw new NodeOperationError(this.getNode(), 'Internal error: presence batches out of order');
	for (const { user, result } of unresolved) {
		if ('error' in result) {
			output.push(errorItem(result.error, user.itemIndexes, { id: user.ref.value }));
		} else {
			output.push({
				json: notFound(user.ref.value, 'No user with this user principal name or e-mail address'),
				pairedItem: pairedItems(user.itemIndexes),
			});
		}
	}
	return output;
}

/** `[{ item }]` for every input item that asked for a user (one, as a rule). */
function pairedItems(indexes: number[]): Array<{ item: number }> {
	if (indexes.length === 1) return [{ item: indexes[0] }];
	return indexes.map((item) => ({ item }));
}

function notFound(id: string, reason: string): IDataObject {
	return { id, notFound: true, reason };
}
