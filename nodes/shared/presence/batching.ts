import type { UserRef } from '../users/ids';

/** Graph answers at most this many ids per getPresencesByUserId call. */
export const MAX_IDS_PER_REQUEST = 650;

export interface RequestedUser {
	/** The value as the user gave it (GUID lower-cased). */
	ref: UserRef;
	/** Every input item that asked for this user, in input order, without repeats. */
	itemIndexes: number[];
}

/**
 * Gathers the ids that all input items asked for, de-duplicated case-insensitively, in first-seen order,
 * each remembering which items asked for it (for pairedItem).
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

export function chunk<T>(values: readonly T[], size: number): T[][] {
	if (!Number.isInteger(size) || size < 1)
		throw new RangeError(`Chunk size must be a positive integer, got ${size}`);
	const chunks: T[][] = [];
	for (let start = 0; start < values.length; start += size)
		chunks.push(values.slice(start, start + size));
	return chunks;
}
