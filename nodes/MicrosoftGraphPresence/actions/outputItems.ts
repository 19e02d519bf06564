import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type INodeExecutionData,
} from 'n8n-workflow';
import { simplifyPresence, type Presence } from '../../shared/presence/presence';
import { detailFields, type UserDetails } from '../../shared/users/userDetails';

/**
 * What Continue On Fail puts out for an input that failed: n8n's usual `{ error }` item, paired to
 * it.
 */
export function errorItem(
	error: unknown,
	itemIndex: number | number[],
	extra: IDataObject = {},
): INodeExecutionData {
	const indexes = Array.isArray(itemIndex) ? itemIndex : [itemIndex];
	return {
		json: { ...extra, error: errorDetails(error) },
		pairedItem: indexes.length === 1 ? { item: indexes[0] } : indexes.map((item) => ({ item })),
	};
}

export function errorDetails(error: unknown): IDataObject {
	if (error instanceof NodeApiError) {
		const response = error.errorResponse ?? {};
		return {
			message: error.message,
			description: error.description ?? null,
			httpCode: error.httpCode ?? null,
			code: typeof response.code === 'string' ? response.code : null,
			requestId: typeof response.requestId === 'string' ? response.requestId : null,
		};
	}
	if (error instanceof NodeOperationError) {
		return { message: error.message, description: error.description ?? null };
	}
	return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * The item json for a presence: Graph's object as it came (parsed JSON), or the flat Simplify
 * shape. With Include User Details (`details` given; null for an id Graph knows no user for), the
 * user's names come too: flat fields with Simplify, a `user` object beside Graph's presence without.
 */
export function presenceJson(
	presence: Presence,
	simplify: boolean,
	details?: UserDetails | null,
): IDataObject {
	const json = simplify
		? (simplifyPresence(presence) as unknown as IDataObject)
		: (presence as IDataObject);
	return details === undefined ? json : withUserDetails(json, simplify, details);
}

/** A presence item's json with the user's names added, in the shape `presenceJson` gives. */
export function withUserDetails(
	json: IDataObject,
	simplify: boolean,
	details: UserDetails | null,
): IDataObject {
	if (simplify) return { ...json, ...detailFields(details) };
	return { ...json, user: details === null ? null : { ...details } };
}
