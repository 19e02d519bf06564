/** Narrowing for JSON that tests read back from the emulator: a wrong shape fails with what was there. */

export function asRecord(value: unknown): Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value))
		throw new Error(`not an object: ${JSON.stringify(value)}`);
	return value as Record<string, unknown>;
}

export function asArray(value: unknown): unknown[] {
	if (!Array.isArray(value)) throw new Error(`not an array: ${JSON.stringify(value)}`);
	return value;
}

export function str(value: unknown): string {
	if (typeof value !== 'string') throw new Error(`not a string: ${JSON.stringify(value)}`);
	return value;
}
