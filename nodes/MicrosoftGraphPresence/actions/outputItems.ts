import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type INodeExecutionData,
} from 'n8n-workflow';
import { simplifyPresence, type Presence } from '../../shared/presence/presence';

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
 * shape.
 */
export function presenceJson(presence: Presence, simplify: boolean): IDataObject {
	return simplify
		? (simplifyPresence(presence) as unknown as IDataObject)
		: (presence as IDataObject);
}
