import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';

import { isRecord } from '../guards';

/**
 * What Graph's refusals mean to the person reading the error: Graph's own code, message and
 * request-id (what Microsoft support asks for), the HTTP status, and a hint for the usual causes.
 * Endpoint modules pick the hint that fits what they asked for; the request loop adds the generic
 * ones.
 */

export interface GraphError {
	code: string;
	message: string;
	requestId?: string;
	date?: string;
}

/** What a request was for, in the words of its error: `(status, Graph's error) → hint`. */
export type Hint = (status: number, error: GraphError | undefined) => string | undefined;

/** Reads Graph's error body `{ error: { code, message, innerError: { 'request-id', date } } }`. */
export function readGraphError(body: unknown): GraphError | undefined {
	if (!isRecord(body) || !isRecord(body.error)) return undefined;
	const { code, message, innerError } = body.error;
	if (typeof code !== 'string' && typeof message !== 'string') return undefined;
	const inner = isRecord(innerError) ? innerError : {};
	return {
		code: typeof code === 'string' ? code : 'UnknownError',
		message: typeof message === 'string' ? message : '',
		requestId: typeof inner['request-id'] === 'string' ? inner['request-id'] : undefined,
		date: typeof inner.date === 'string' ? inner.date : undefined,
	};
}

/**
 * A Graph answer that is not a success, after retries: what Graph said, before it becomes n8n's
 * error.
 */
export class GraphRequestError extends Error {
	constructor(
		readonly status: number,
		readonly graphError: GraphError | undefined,
		readonly hint: string | undefined,
	) {
		super(`${graphError?.code ?? `HTTP ${status}`}: ${graphError?.message ?? 'no error details'}`);
	}
}

/**
 * NodeApiError swaps a message for a stock text when it contains a Node.js error code anywhere, and
 * Graph's "ResourceNotFound" contains "ENOTFOUND": the message is set again afterwards so that what
 * Graph said stays.
 */
export function graphApiError(
	node: INode,
	response: JsonObject,
	options: { message: string; description?: string; httpCode?: string },
): NodeApiError {
	const error = new NodeApiError(node, response, options);
	error.message = options.message;
	return error;
}

/** The error n8n shows for what Graph said: code, message, request-id, HTTP status and the hint. */
export function toNodeApiError(node: INode, error: GraphRequestError): NodeApiError {
	const { status, graphError, hint } = error;
	const code = graphError?.code ?? `HTTP ${status}`;
	const description = [
		hint,
		graphError?.requestId ? `Graph request-id: ${graphError.requestId}` : undefined,
		graphError?.date ? `date: ${graphError.date}` : undefined,
	]
		.filter((part) => part)
		.join(' — ');
	const response: JsonObject = {
		code,
		message: graphError?.message ?? '',
		requestId: graphError?.requestId ?? null,
		httpCode: String(status),
	};
	return graphApiError(node, response, {
		message: `Microsoft Graph answered ${status} ${code}${graphError?.message ? `: ${graphError.message}` : ''}`,
		description,
		httpCode: String(status),
	});
}

/**
 * n8n shows its own error classes best; anything else is wrapped without its (possibly
 * secret-laden) details.
 */
export function asNodeError(node: INode, error: unknown): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(node, error instanceof Error ? error.message : String(error));
}

/** Graph said the thing is not there (a deleted subscription, an unknown user). */
export function isNotFound(error: unknown): boolean {
	return error instanceof NodeApiError && error.httpCode === '404';
}

export const presenceHint: Hint = (status) => {
	if (status === 403) {
		return 'Permission missing: reading presence needs Presence.Read (Get Me) or Presence.Read.All (other users), delegated or application. Application permissions need an administrator to grant admin consent in Entra ID (App registrations → API permissions → Grant admin consent).';
	}
	if (status === 404) {
		return "Graph knows no presence for this user: check that the id is the user's Entra object id and that the user has a Teams license.";
	}
	if (status === 401) {
		return 'Graph rejected the token: check the credential (tenant, client id, secret or certificate, and that the account is still allowed to sign in).';
	}
	return undefined;
};

export const directoryHint: Hint = (status, error) => {
	if (status === 403) {
		return 'Reading users and groups needs User.ReadBasic.All and GroupMember.Read.All (delegated) or User.Read.All and GroupMember.Read.All (application), with admin consent.';
	}
	if (status === 404) return 'No such group or user in this tenant.';
	return presenceHint(status, error);
};

export const userLookupHint: Hint = (status, error) => {
	if (status === 403) {
		return 'Resolving user principal names needs User.ReadBasic.All (delegated) or User.Read.All (application), with admin consent.';
	}
	return presenceHint(status, error);
};

/** What the request loop says when the endpoint's hint has nothing to add. */
export function retriesHint(status: number, retries: number): string | undefined {
	if (status === 429) {
		return `Graph still throttled after ${retries} retries. If other tools share this app registration, lower "Max Requests per 30 Seconds".`;
	}
	if (status === 503 || status === 504)
		return `Graph was unavailable after ${retries} retries; try again later.`;
	return presenceHint(status, undefined);
}

/** A duration as people read it in an error: "45 s", "10 min", "10 min 5 s". */
function duration(ms: number): string {
	const seconds = Math.round(ms / 1000);
	if (seconds < 60) return `${seconds} s`;
	const minutes = Math.floor(seconds / 60);
	const rest = seconds % 60;
	return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/**
 * Graph still throttles, and waiting as it asks would take the execution past its throttle budget:
 * the error names the budget and the option that sets it, beside what Graph said.
 */
export function throttleBudgetError(
	node: INode,
	status: number,
	graphError: GraphError | undefined,
	heldMs: number,
	budgetMinutes: number,
	askedMs: number,
): NodeApiError {
	const error = toNodeApiError(
		node,
		new GraphRequestError(
			status,
			graphError,
			`Graph asked to wait ${duration(askedMs)} more. Throttled requests are retried for as long as Graph asks, within "Max Throttle Wait (Minutes)" per execution: raise it for long runs, or lower "Max Requests per 30 Seconds" in other workflows and tools using this app registration.`,
		),
	);
	error.message = `Microsoft Graph kept throttling this execution (${status} ${graphError?.code ?? `HTTP ${status}`}) for ${duration(heldMs)}; waiting longer would pass its throttle budget, Max Throttle Wait (Minutes) = ${budgetMinutes}`;
	return error;
}
