import { NodeOperationError, type NodeApiError, type INode } from 'n8n-workflow';

import { lookUpUsers, type LookupResult } from '../graph/directory';
import type { GraphClient } from '../transport/graphClient';
import type { UserRef } from './ids';
import type { Resolution } from './requestedUsers';

/**
 * The one place where the users people name become the object ids that Graph's presence endpoints
 * take: object ids stay as they are, `me` stays `me`, names are looked up together in bulk. Every
 * operation and both triggers resolve through here.
 */

export type UserResolution = Resolution<NodeApiError>;

const NOT_FOUND_REASON = 'No user with this user principal name or e-mail address';

/** Looks up every name among `refs` at once and answers, for each ref, what it is. */
export async function resolveUsers(
	client: GraphClient,
	refs: Iterable<UserRef>,
): Promise<(ref: UserRef) => UserResolution> {
	const names = new Map<string, string>();
	for (const ref of refs)
		if (ref.kind === 'upn' && !names.has(ref.key)) names.set(ref.key, ref.value);
	const found: Map<string, LookupResult> =
		names.size > 0 ? await lookUpUsers(client, [...names.values()]) : new Map();
	return (ref) => {
		if (ref.kind !== 'upn') return { id: ref.value };
		const result = found.get(ref.key);
		if (result === undefined || 'notFound' in result)
			return { notFound: true, reason: NOT_FOUND_REASON };
		return result;
	};
}

/** The object id (or `me`) for one item's user, or the error that names the item and the value. */
export function requireUser(
	node: INode,
	itemIndex: number,
	ref: UserRef,
	resolution: UserResolution,
): string {
	if ('id' in resolution) return resolution.id;
	if ('error' in resolution) throw resolution.error;
	throw new NodeOperationError(node, `Item ${itemIndex}: no user "${ref.value}" in this tenant`, {
		itemIndex,
		description:
			'Graph found no user with this user principal name or e-mail address. Check the spelling, or use the object ID.',
	});
}
