/**
 * Graph's Retry-After comes as delta seconds or as an HTTP date. Returns the wait in milliseconds,
 * or undefined when the header is absent or unreadable (the caller then backs off on its own).
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
	if (header === undefined) return undefined;
	const value = header.trim();
	if (value === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
	// An HTTP date always has a weekday and month name; Date.parse would also take "-5" as a year.
	if (!/[a-z]/i.test(value)) return undefined;
	const date = Date.parse(value);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - now);
}
