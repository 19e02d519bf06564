import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { usersFromProperties } from '../../../shared/descriptions';
import { groupMemberIds } from '../../../shared/graph/directory';
import { getManyPresences, type PresenceBatch } from '../../../shared/graph/presence';
import { indexById } from '../../../shared/presence/presence';
import { asNodeError } from '../../../shared/transport/errors';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { parseUserIds, type UserRef } from '../../../shared/users/ids';
import {
	gatherUsers,
	mergeByObjectId,
	type ObjectUser,
} from '../../../shared/users/requestedUsers';
import { resolveUsers } from '../../../shared/users/resolveUsers';
import { rememberUsers, userDetails } from '../../../shared/users/userDetails';
import { readOptions } from '../../descriptions/common';
import { errorItem, presenceJson, withUserDetails } from '../outputItems';

export const description: INodeProperties[] = usersFromProperties(
	{ operation: ['getMany'] },
	'Entra object IDs (GUIDs), user principal names or e-mail addresses: one, several separated by commas, semicolons, spaces or new lines, or an expression giving a list. IDs from all input items are gathered, duplicates removed, and read 650 per Graph request.',
);

/**
 * Gathers ids from every input item, de-duplicates them case-insensitively, resolves names in bulk,
 * reads presence 650 ids a request under the shared throttle, and puts out one item per user,
 * paired to every item that asked for it. Nobody is silently dropped: users Graph does not know
 * come out marked `notFound`.
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
			const named = groups.get(key) ?? { group: group.trim(), itemIndexes: [] };
			named.itemIndexes.push(itemIndex);
			groups.set(key, named);
			continue;
		}
		const parsed = parseUserIds(this.getNodeParameter('userIds', itemIndex));
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

	const withDetails = readOptions(this).includeUserDetails === true;
	// A group's members count as ids asked for by every item that named the group.
	for (const { group, itemIndexes } of groups.values()) {
		let members: string[];
		try {
			// Their names come in the same pages: kept for Include User Details.
			members = await groupMemberIds(
				client,
				group,
				withDetails ? (found) => rememberUsers(client, found) : undefined,
			);
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
	const resolve = await resolveUsers(
		client,
		requested.map((user) => user.ref),
	);
	const { users, unresolved } = mergeByObjectId(requested, resolve);
	const lookupFailure = unresolved.find(({ result }) => 'error' in result);
	if (lookupFailure && 'error' in lookupFailure.result && !this.continueOnFail()) {
		throw lookupFailure.result.error;
	}

	// Answers become items as they come in, while later requests are still on the way; the items go
	// out in the order the users were asked for. Graph's answer (any order, unknown ids left out) is
	// matched by id.
	const itemsOfBatch: INodeExecutionData[][] = [];
	const toItems = (batch: PresenceBatch<ObjectUser>): void => {
		if (batch.result instanceof Error) return;
		const answer = indexById(batch.result);
		itemsOfBatch[batch.index] = batch.users.map(({ id, itemIndexes }): INodeExecutionData => {
			const presence = answer.get(id);
			return {
				json: presence
					? presenceJson(presence, simplify)
					: notFound(id, 'Graph returned no presence for this ID'),
				pairedItem: pairedItems(itemIndexes),
			};
		});
	};
	// Names are read while presence is: one lookup for everyone, most of it from the cache.
	const [batches, details] = await Promise.all([
		getManyPresences(client, users, (user) => user.id, toItems),
		withDetails
			? userDetails(
					client,
					users.map((user) => user.id),
				).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
			: undefined,
	]);
	const failed = batches.find((batch) => batch.result instanceof Error);
	if (failed && !this.continueOnFail()) throw failed.result;
	if (details instanceof Error && !this.continueOnFail()) throw details;
	for (const batch of batches) {
		if (batch.result instanceof Error || details instanceof Error) {
			const error = batch.result instanceof Error ? batch.result : details;
			for (const { id, itemIndexes } of batch.users)
				output.push(errorItem(error, itemIndexes, { id }));
			continue;
		}
		for (const item of itemsOfBatch[batch.index]) {
			if (details !== undefined && item.json.notFound !== true) {
				const id = String(item.json.id).toLowerCase();
				item.json = withUserDetails(item.json, simplify, details.get(id) ?? null);
			}
			output.push(item);
		}
	}
	for (const { user, result } of unresolved) {
		output.push(
			'error' in result
				? errorItem(result.error, user.itemIndexes, { id: user.ref.value })
				: {
						json: notFound(user.ref.value, result.reason, result.ambiguous === true),
						pairedItem: pairedItems(user.itemIndexes),
					},
		);
	}
	return output;
}

/** `[{ item }]` for every input item that asked for a user (one, as a rule). */
function pairedItems(indexes: number[]): Array<{ item: number }> {
	if (indexes.length === 1) return [{ item: indexes[0] }];
	return indexes.map((item) => ({ item }));
}

/**
 * A user that cannot be read: `notFound` for an IF node to filter on, `ambiguous` when several users
 * answer to the name, and the reason in words.
 */
function notFound(id: string, reason: string, ambiguous = false): IDataObject {
	return ambiguous
		? { id, notFound: true, ambiguous: true, reason }
		: { id, notFound: true, reason };
}
