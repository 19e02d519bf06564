import { NodeOperationError } from 'n8n-workflow';

import { chunk, MAX_IDS_PER_REQUEST } from '../presence/batching';
import { isPresence, isPresenceList, type Presence } from '../presence/presence';
import { myPresenceHint, presenceHint } from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';

/** Reading presence: the signed-in user's, one user's, and any number of users' 650 a request. */

/**
 * `GET /me/presence`: delegated only, refused before any request with the application credential.
 */
export async function getMyPresence(client: GraphClient): Promise<Presence> {
	if (client.authentication === 'application') {
		throw new NodeOperationError(client.node, 'Get Me needs the delegated (OAuth2) credential', {
			description:
				'An application signs in as itself, not as a user, so Graph has no "me" for it. Use Get User or Get Many with the application credential, or switch Authentication to OAuth2.',
		});
	}
	return await client.request(
		{ method: 'GET', path: '/me/presence', hint: myPresenceHint },
		isPresence,
	);
}

/** `GET /users/{id}/presence` for one object id. */
export async function getPresence(client: GraphClient, id: string): Promise<Presence> {
	const path = `/users/${encodeURIComponent(id)}/presence`;
	return await client.request({ method: 'GET', path, hint: presenceHint }, isPresence);
}

/** One `getPresencesByUserId` call: at most 650 GUIDs. */
export async function getPresencesByUserId(
	client: GraphClient,
	ids: readonly string[],
): Promise<Presence[]> {
	if (ids.length > MAX_IDS_PER_REQUEST) {
		throw new RangeError(
			`getPresencesByUserId takes at most ${MAX_IDS_PER_REQUEST} ids, got ${ids.length}`,
		);
	}
	const answer = await client.request(
		{
			method: 'POST',
			path: '/communications/getPresencesByUserId',
			body: { ids: [...ids] },
			hint: presenceHint,
		},
		isPresenceList,
	);
	return answer.value;
}

/**
 * One getPresencesByUserId request of getManyPresences: its users, and Graph's answer or why there
 * is none.
 */
export interface PresenceBatch<T> {
	/** Its place among the batches, which are consecutive slices of the users asked for. */
	index: number;
	users: T[];
	/** Graph's answer, in any order and without unknown ids: match it by id (indexById). */
	result: Presence[] | Error;
}

/**
 * Presence of any number of users (`idOf` gives each one's object id): 650 a request, all requests
 * under the shared throttle at once. Each batch settles on its own, so one failed batch does not
 * lose the others, and `onBatch` sees each one as it settles so that a caller can work on answers
 * while later ones are on the way.
 */
export async function getManyPresences<T>(
	client: GraphClient,
	users: readonly T[],
	idOf: (user: T) => string,
	onBatch?: (batch: PresenceBatch<T>) => void,
): Promise<Array<PresenceBatch<T>>> {
	return await Promise.all(
		chunk(users, MAX_IDS_PER_REQUEST).map(async (slice, index): Promise<PresenceBatch<T>> => {
			let result: Presence[] | Error;
			try {
				result = await getPresencesByUserId(client, slice.map(idOf));
			} catch (error) {
				client.throwIfCancelled();
				result = error instanceof Error ? error : new Error(String(error));
			}
			const batch = { index, users: slice, result };
			onBatch?.(batch);
			return batch;
		}),
	);
}

/**
 * The presences of a set of object ids (lower case), only those asked for, and the errors of
 * requests that failed: how the triggers read.
 */
export async function readPresences(
	client: GraphClient,
	ids: ReadonlySet<string>,
): Promise<{ presences: Presence[]; failures: Error[] }> {
	const presences: Presence[] = [];
	const failures: Error[] = [];
	for (const batch of await getManyPresences(client, [...ids], (id) => id)) {
		if (batch.result instanceof Error) failures.push(batch.result);
		else presences.push(...batch.result.filter((presence) => ids.has(presence.id.toLowerCase())));
	}
	return { presences, failures };
}
