import { NodeOperationError, type NodeApiError, type INode } from 'n8n-workflow';

import {
	usersByAlias,
	usersByProperty,
	type DirectoryUser,
	type Matches,
} from '../graph/directory';
import type { GraphClient } from '../transport/graphClient';
import type { UserRef } from './ids';
import type { Resolution } from './requestedUsers';
import { rememberUsers } from './userDetails';

/**
 * The one place where the users people name become the object ids that Graph's presence endpoints
 * take: object ids stay as they are, `me` stays `me`, names are looked up together in bulk. Every
 * operation and both triggers resolve through here.
 *
 * A name is looked for as a user principal name first (the sign-in name, unique), then as a mail
 * address, then as an alias among proxyAddresses: `GET /users/{x}` would find only the first
 * (user-get takes an object id or a UPN), and in most tenants mail and UPN differ. Two users with
 * the address is an answer of its own, never a guess.
 */

export type UserResolution = Resolution<NodeApiError>;

const NOT_FOUND_REASON =
	'No user with this user principal name, e-mail address or alias in this tenant (aliases are searched only with User.Read.All)';

/** Looks up every name among `refs` at once and answers, for each ref, what it is. */
export async function resolveUsers(
	client: GraphClient,
	refs: Iterable<UserRef>,
): Promise<(ref: UserRef) => UserResolution> {
	const names = new Set<string>();
	for (const ref of refs) if (ref.kind === 'upn') names.add(ref.key);
	const found = new Map<string, UserResolution>();

	// Each pass looks only for what the ones before did not find.
	const passes: Array<{
		what: string;
		look: (values: string[]) => Promise<Map<string, Matches>>;
	}> = [
		{
			what: 'user principal name',
			look: (values) => usersByProperty(client, 'userPrincipalName', values),
		},
		{ what: 'e-mail address', look: (values) => usersByProperty(client, 'mail', values) },
		{ what: 'e-mail alias', look: (values) => usersByAlias(client, values) },
	];
	let pending = [...names.keys()];
	for (const pass of passes) {
		if (pending.length === 0) break;
		const answers = await pass.look(pending);
		const next: string[] = [];
		for (const name of pending) {
			const answer = answers.get(name);
			if (answer === undefined) {
				next.push(name);
			} else if ('error' in answer) {
				found.set(name, { error: answer.error });
			} else if (answer.users.length === 1) {
				found.set(name, { id: answer.users[0].id.toLowerCase() });
				rememberUsers(client, answer.users);
			} else if (answer.users.length > 1) {
				found.set(name, ambiguous(answer.users, pass.what));
			} else {
				next.push(name);
			}
		}
		pending = next;
	}

	return (ref) => {
		if (ref.kind !== 'upn') return { id: ref.value };
		return found.get(ref.key) ?? { notFound: true, reason: NOT_FOUND_REASON };
	};
}

function ambiguous(users: DirectoryUser[], what: string): UserResolution {
	return {
		notFound: true,
		ambiguous: true,
		reason: `${users.length} users have this ${what} (${users
			.map((user) => user.userPrincipalName ?? user.id)
			.join(', ')}): give the user principal name or object ID of the one meant`,
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
	if (resolution.ambiguous) {
		throw new NodeOperationError(
			node,
			`Item ${itemIndex}: "${ref.value}" is not one user: ${resolution.reason}`,
			{ itemIndex, description: 'Two users share this address; Graph cannot tell which is meant.' },
		);
	}
	throw new NodeOperationError(node, `Item ${itemIndex}: no user "${ref.value}" in this tenant`, {
		itemIndex,
		description:
			'Graph found no user with this user principal name, e-mail address or alias. Check the spelling, or use the object ID. Aliases (proxyAddresses) are searched only with User.Read.All.',
	});
}
