/** Graph answers at most this many ids per getPresencesByUserId call. */
export const MAX_IDS_PER_REQUEST = 650;

export function chunk<T>(values: readonly T[], size: number): T[][] {
	if (!Number.isInteger(size) || size < 1)
		throw new RangeError(`Chunk size must be a positive integer, got ${size}`);
	const chunks: T[][] = [];
	for (let start = 0; start < values.length; start += size)
		chunks.push(values.slice(start, start + size));
	return chunks;
}
