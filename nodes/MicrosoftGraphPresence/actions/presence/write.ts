import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { parseUserIds, type UserRef } from '../../../shared/users/ids';
import { writePresence } from '../../../shared/graph/presenceWrites';
import { asNodeError } from '../../../shared/transport/errors';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { requireUser, resolveUsers } from '../../../shared/users/resolveUsers';
import { errorItem } from '../outputItems';

/**
 * What every presence write shares: whose presence (one or many users per item, or "me"), names
 * resolved in bulk, one Graph request per user under the shared throttle, one result item per user
 * saying what was set.
 */

/** The users a write goes to; one property per operation so each can say what it does. */
export function targetProperty(operation: string): INodeProperties {
	return {
		displayName: 'User IDs',
		name: 'userIds',
		type: 'string',
		default: 'me',
		required: true,
		placeholder: 'e.g. me, or jane@contoso.com, or 4562bcc8-c436-4f95-b7c0-4f8ce89dca5e',
		description:
			'Whose presence to change: "me" (the signed-in user, OAuth2 only), or Entra object IDs, user principal names or e-mail addresses — one or several per item',
		displayOptions: { show: { operation: [operation] } },
	};
}

export interface WriteRequest {
	/** Graph's action below `/users/{id}/presence` or `/me/presence`, e.g. `setPresence`. */
	action: string;
	body?: IDataObject;
	/** What the result item says was set. */
	result: IDataObject;
	hint?: (status: number) => string | undefined;
}

export interface WriteSpec {
	operation: string;
	/**
	 * Reads and checks the item's parameters; throws a NodeOperationError naming the item for bad
	 * input.
	 */
	build: (this: IExecuteFunctions, itemIndex: number, client: GraphClient) => WriteRequest;
	/** Work location exists only for the signed-in user. */
	meOnly?: boolean;
}

export async function executeWrite(
	this: IExecuteFunctions,
	client: GraphClient,
	spec: WriteSpec,
): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const planned: Array<
		| { itemIndex: number; refs: UserRef[]; request: WriteRequest }
		| { itemIndex: number; error: Error }
	> = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const request = spec.build.call(this, itemIndex, client);
			let refs: UserRef[] = [{ kind: 'me', value: 'me', key: 'me' }];
			if (!spec.meOnly) {
				const parsed = parseUserIds(this.getNodeParameter('userIds', itemIndex), { allowMe: true });
				if (!parsed.ok)
					throw new NodeOperationError(this.getNode(), `Item ${itemIndex}: ${parsed.message}`, {
						itemIndex,
					});
				refs = parsed.refs;
			}
			if (client.authentication === 'application' && refs.some((ref) => ref.kind === 'me')) {
				throw new NodeOperationError(
					this.getNode(),
					`Item ${itemIndex}: "me" needs the delegated (OAuth2) credential`,
					{
						itemIndex,
						description: spec.meOnly
							? 'Graph sets work locations only for the signed-in user, so this operation needs OAuth2.'
							: 'An application has no "me": give the users\' object IDs or names.',
					},
				);
			}
			planned.push({ itemIndex, refs, request });
		} catch (error) {
			if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
			planned.push({ itemIndex, error: error instanceof Error ? error : new Error(String(error)) });
		}
	}

	const resolve = await resolveUsers(
		client,
		planned.flatMap((plan) => ('refs' in plan ? plan.refs : [])),
	);
	const results = await Promise.all(
		planned.map(async (plan): Promise<INodeExecutionData[]> => {
			if ('error' in plan) return [errorItem(plan.error, plan.itemIndex)];
			const { itemIndex, request } = plan;
			return await Promise.all(
				plan.refs.map(async (ref): Promise<INodeExecutionData> => {
					try {
						const id = requireUser(this.getNode(), itemIndex, ref, resolve(ref));
						await writePresence(client, id, request.action, request.body, request.hint);
						return {
							json: { id, operation: spec.operation, ...request.result },
							pairedItem: { item: itemIndex },
						};
					} catch (error) {
						if (!this.continueOnFail()) throw asNodeError(this.getNode(), error);
						return errorItem(error, itemIndex, { id: ref.value, operation: spec.operation });
					}
				}),
			);
		}),
	);
	return results.flat();
}

/** A bad parameter value: the error names the item and the value. */
export function badInput(
	ctx: IExecuteFunctions,
	itemIndex: number,
	message: string,
): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), `Item ${itemIndex}: ${message}`, { itemIndex });
}
