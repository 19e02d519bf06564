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

/**
 * What a 403 says: the permission the failed request needs, and where to give it. Delegated scopes
 * come from the OAuth2 credential's "Used For" (`purpose` names the choice) or its Additional
 * Scopes; application permissions need an administrator's consent.
 */
function missingPermission(
	what: string,
	delegated: { scope: string; purpose: string } | undefined,
	application: string | undefined,
): string {
	const ways = [
		delegated
			? `delegated (OAuth2) ${delegated.scope}: in the credential pick "${delegated.purpose}" under Used For (or add ${delegated.scope} to Additional Scopes) and reconnect`
			: undefined,
		application
			? `application ${application}, granted with admin consent (App registrations → API permissions → Grant admin consent)`
			: undefined,
	].filter((way) => way !== undefined);
	return `Permission missing: ${what} needs ${ways.join('; or ')}. Permissions that need admin consent stay missing until an administrator grants them.`;
}

/** The usual reading of 404 and 401 on presence requests. */
function presenceStatusHint(status: number): string | undefined {
	if (status === 404) {
		return "Graph knows no presence for this user: check that the id is the user's Entra object id and that the user has a Teams license.";
	}
	if (status === 401) {
		return 'Graph rejected the token: check the credential (tenant, client id, secret or certificate, and that the account is still allowed to sign in).';
	}
	return undefined;
}

/** Credential "Used For" choices, as the OAuth2 credential names them. */
export const PURPOSE_LABELS = {
	ownPresence: 'Read My Presence',
	othersPresence: "Read Others' Presence",
	writePresence: 'Change Presence',
	userLookups: 'Find Users and Show Their Names',
	aliasLookups: 'Find Users by E-Mail Alias',
	groups: 'Users From a Group',
	instantTrigger: 'Instant Trigger',
} as const;

/** Get Me: the signed-in user's own presence. */
export const myPresenceHint: Hint = (status) =>
	status === 403
		? missingPermission(
				'Get Me',
				{ scope: 'Presence.Read', purpose: PURPOSE_LABELS.ownPresence },
				undefined,
			)
		: presenceStatusHint(status);

/** Get User, Get Many and the triggers' reads. */
export const presenceHint: Hint = (status) =>
	status === 403
		? missingPermission(
				"Reading other users' presence",
				{ scope: 'Presence.Read.All', purpose: PURPOSE_LABELS.othersPresence },
				'Presence.Read.All',
			)
		: presenceStatusHint(status);

/** Every presence write (set / clear presence, preferred presence, status message, work location). */
export const writeHint: Hint = (status) =>
	status === 403
		? missingPermission(
				'Changing presence',
				{ scope: 'Presence.ReadWrite', purpose: PURPOSE_LABELS.writePresence },
				'Presence.ReadWrite.All',
			)
		: presenceStatusHint(status);

/** Group names and members, and the user picker's pages. */
export const directoryHint: Hint = (status) => {
	if (status === 403) {
		return `${missingPermission(
			'Reading a group',
			{ scope: 'GroupMember.Read.All', purpose: PURPOSE_LABELS.groups },
			'GroupMember.Read.All',
		)} Listing users (the user picker) needs User.ReadBasic.All (delegated, "${PURPOSE_LABELS.userLookups}") or User.Read.All (application).`;
	}
	if (status === 404) return 'No such group or user in this tenant.';
	return presenceStatusHint(status);
};

/** Finding users by user principal name or e-mail address. */
export const userLookupHint: Hint = (status) =>
	status === 403
		? missingPermission(
				'Finding users by user principal name or e-mail address',
				{ scope: 'User.ReadBasic.All', purpose: PURPOSE_LABELS.userLookups },
				'User.Read.All',
			)
		: presenceStatusHint(status);

/** Finding users by an alias (proxyAddresses, not part of the basic profile). */
export const aliasLookupHint: Hint = (status) =>
	status === 403
		? missingPermission(
				'Finding users by e-mail alias',
				{ scope: 'User.Read.All', purpose: PURPOSE_LABELS.aliasLookups },
				'User.Read.All',
			)
		: presenceStatusHint(status);

/** Include User Details: names and addresses by object id, or the tenant's user list. */
export const userDetailsHint: Hint = (status) =>
	status === 403
		? missingPermission(
				'Include User Details',
				{ scope: 'User.ReadBasic.All', purpose: PURPOSE_LABELS.userLookups },
				'User.Read.All',
			)
		: presenceStatusHint(status);

/** What the request loop says when the endpoint's hint has nothing to add. */
export function retriesHint(status: number, retries: number): string | undefined {
	// Never a 429: throttling is retried until Max Throttle Wait, which has its own error.
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
