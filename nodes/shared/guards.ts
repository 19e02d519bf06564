/**
 * Data from outside (Graph's answers, notifications, parameters) arrives as `unknown`: this admits
 * an object.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
