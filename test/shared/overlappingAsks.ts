/**
 * Get Many's "many askers" input, the same in the engine and the CLI end-to-end test: 300 items over 2,000 ids,
 * item i asking for ids [7i, 7i+7) (mod 2,000) and every third item for one more id in upper case, so that every
 * id is asked for and a good share by two or three items, in different letter case. Even items hand their ids over
 * as comma-separated text, odd ones as a list.
 */
export interface OverlappingAsks {
	items: Array<{ ids: string | string[] }>;
	/** The items that asked for each id, by the id in lower case. */
	askers: Map<string, Set<number>>;
}

export function overlappingAsks(ids: readonly string[]): OverlappingAsks {
	const askers = new Map<string, Set<number>>();
	const items = Array.from({ length: 300 }, (_, item) => {
		const mine = Array.from({ length: 7 }, (_, k) => ids[(item * 7 + k) % 2000]);
		if (item % 3 === 0) mine.push(ids[(item * 13) % 2000].toUpperCase());
		for (const id of mine) {
			const lower = id.toLowerCase();
			const set = askers.get(lower) ?? new Set<number>();
			askers.set(lower, set.add(item));
		}
		return { ids: item % 2 === 0 ? mine.join(', ') : mine };
	});
	return { items, askers };
}
