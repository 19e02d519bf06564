import type { UserRef } from './ids';

/**
 * Who the input items asked for, once each: pure bookkeeping for Get Many, so that every user is
 * read once and every output item is paired with every input item that asked for it.
 */

export interface RequestedUser {
	/** The value as the user gave it (GUID lower-cased). */
	ref: UserRef;
	/** Every input item that asked for this user, in input order, without repeats. */
	itemIndexes: number[];
}

/**
 * Gathers the ids that all input items asked for, de-duplicated case-insensitively, in first-seen
 * order, each remembering which items asked for it (for pairedItem).
 */
export function gatherUsers(
	perItem: Array<{ itemIndex: number; refs: UserRef[] }>,
): RequestedUser[] {
	const byKey = new Map<string, RequestedUser>();
	for (const { itemIndex, refs } of perItem) {
		for (const ref of refs) {
			const known = byKey.get(ref.key);
			if (!known) {
				byKey.set(ref.key, { ref, itemIndexes: [itemIndex] });
			} else if (known.itemIndexes[known.itemIndexes.length - 1] !== itemIndex) {
				known.itemIndexes.push(itemIndex);
			}
		}
	}
	return [...byKey.values()];
}

/** A user to read presence for: an object id, and the items that asked for it. */
export interface ObjectUser {
	id: string;
	itemIndexes: number[];
}

/** What a user reference turned out to be: an object id, nobody, or a lookup that failed. */
export type Resolution<E = Error> =
	| { id: string }
	/** `ambiguous`: several users answer to the name, so none is picked. */
	| { notFound: true; reason: string; ambiguous?: boolean }
	| { error: E };

export type Unresolved<E> = Exclude<Resolution<E>, { id: string }>;

export interface Merged<E> {
	/** One entry per object id, in the order first asked for. */
	users: ObjectUser[];
	/** Users whose name did not become an object id, with what the lookup said. */
	unresolved: Array<{ user: RequestedUser; result: Unresolved<E> }>;
}

/**
 * Users named once by GUID and once by name (or by two names) are one user: merged under the object
 * id, their askers combined in input order. `resolve` says what each reference turned out to be.
 */
export function mergeByObjectId<E>(
	requested: readonly RequestedUser[],
	resolve: (ref: UserRef) => Resolution<E>,
): Merged<E> {
	// GUIDs only (the usual case, often 100,000 of them): each is already one object id, and nothing
	// merges.
	if (requested.every((user) => user.ref.kind === 'guid')) {
		return {
			users: requested.map((user) => ({ id: user.ref.value, itemIndexes: user.itemIndexes })),
			unresolved: [],
		};
	}
	const byId = new Map<string, ObjectUser>();
	const unresolved: Merged<E>['unresolved'] = [];
	for (const user of requested) {
		const found = resolve(user.ref);
		if (!('id' in found)) {
			unresolved.push({ user, result: found });
			continue;
		}
		const known = byId.get(found.id);
		if (!known) byId.set(found.id, { id: found.id, itemIndexes: user.itemIndexes });
		else
			known.itemIndexes = [...new Set([...known.itemIndexes, ...user.itemIndexes])].sort(
				(a, b) => a - b,
			);
	}
	return { users: [...byId.values()], unresolved };
}
