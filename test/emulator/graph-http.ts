import type { Directory, Presence } from './directory';
import type { TokenRecord } from './tokens';
import { graphDate, type Rng } from './util';

/** What every route module shares: request/result shapes, Graph's error body, and the JSON content type. */

export const GRAPH_JSON =
	'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';

export interface GraphRequest {
	method: string;
	/** 'v1.0' or 'beta'. */
	version: string;
	/** After the version, without the query, e.g. '/users/{id}/presence'. */
	path: string;
	query: Record<string, string>;
	body: unknown;
	requestId: string;
	clientRequestId?: string;
	/** Request headers, names lowercased (e.g. 'consistencylevel'). */
	headers?: Record<string, string>;
}

export interface GraphResult {
	status: number;
	headers: Record<string, string>;
	/** undefined: no body at all (200 or 204 with Content-Length 0). */
	body: unknown;
}

export interface RouteContext {
	directory: Directory;
	token: TokenRecord;
	shuffleRng: Rng;
	baseUrl: string;
	/** The presence clock (ms since epoch): real time plus the emulator's advancePresenceClock offset. */
	now: number;
	/** Told every presence a read answers with (when the emulator records reads: `recordPresenceReads`). */
	served?: (presence: Presence) => void;
}

export function graphError(
	req: GraphRequest,
	status: number,
	code: string,
	message: string,
	headers: Record<string, string> = {},
): GraphResult {
	return {
		status,
		headers: { 'Content-Type': GRAPH_JSON, ...headers },
		body: {
			error: {
				code,
				message,
				innerError: {
					date: graphDate(),
					'request-id': req.requestId,
					// Graph falls back to its own request id when the client sent none.
					'client-request-id': req.clientRequestId ?? req.requestId,
				},
			},
		},
	};
}

export function ok(body: unknown): GraphResult {
	return { status: 200, headers: { 'Content-Type': GRAPH_JSON }, body };
}

/** A write action's answer: no body, no Content-Type. */
export function noContent(status: 200 | 204): GraphResult {
	return { status, headers: {}, body: undefined };
}

export function metadataContext(req: GraphRequest, ctx: RouteContext, fragment: string): string {
	return `${ctx.baseUrl}/${req.version}/$metadata#${fragment}`;
}

export function userNotFound(req: GraphRequest, idOrUpn: string): GraphResult {
	return graphError(
		req,
		404,
		'Request_ResourceNotFound',
		`Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
	);
}

export function header(req: GraphRequest, name: string): string | undefined {
	return req.headers?.[name.toLowerCase()];
}
