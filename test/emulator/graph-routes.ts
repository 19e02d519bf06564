import type { Directory, EmulatedUser } from './directory';
import type { TokenRecord } from './tokens';
import { graphDate, isGuid, isRecord, shuffle, type Rng } from './util';

export const GRAPH_JSON = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
export const MAX_PRESENCE_IDS = 650;

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
}

export interface GraphResult {
	status: number;
	headers: Record<string, string>;
	body: unknown;
}

export interface RouteContext {
	directory: Directory;
	token: TokenRecord;
	shuffleRng: Rng;
	baseUrl: string;
}

export function graphError(req: GraphRequest, status: number, code: string, message: string, headers: Record<string, string> = {}): GraphResult {
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

function ok(body: unknown): GraphResult {
	return { status: 200, headers: { 'Content-Type': GRAPH_JSON }, body };
}

type Handler = (req: GraphRequest, ctx: RouteContext, params: string[]) => GraphResult;

interface Route {
	/** Lowercase literal segments; ':' marks a parameter. */
	pattern: string[];
	method: string;
	handler: Handler;
}

const ROUTES: Route[] = [
	{ pattern: ['me'], method: 'GET', handler: (req, ctx) => withMe(req, ctx, (user) => userBody(req, ctx, user)) },
	{ pattern: ['me', 'presence'], method: 'GET', handler: (req, ctx) => withMe(req, ctx, (user) => presenceBody(req, ctx, user, `users('${user.id}')/presence`)) },
	{ pattern: ['users', ':'], method: 'GET', handler: getUser },
	{ pattern: ['users', ':', 'presence'], method: 'GET', handler: (req, ctx, [id]) => presenceById(req, ctx, id, `users('${id}')/presence`) },
	{ pattern: ['communications', 'presences', ':'], method: 'GET', handler: (req, ctx, [id]) => presenceById(req, ctx, id, 'communications/presences') },
	{ pattern: ['communications', 'getpresencesbyuserid'], method: 'POST', handler: getPresencesByUserId },
];

/** Every Graph route except $batch, which the emulator handles because it re-enters logging, faults and throttling. */
export function routeGraph(req: GraphRequest, ctx: RouteContext): GraphResult {
	let segments: string[];
	try {
		segments = req.path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
	} catch {
		return graphError(req, 400, 'BadRequest', 'The request URI is not valid.');
	}
	const lower = segments.map((s) => s.toLowerCase());
	let pathMatched = false;
	for (const route of ROUTES) {
		if (route.pattern.length !== lower.length) continue;
		if (!route.pattern.every((p, i) => p === ':' || p === lower[i])) continue;
		pathMatched = true;
		if (route.method !== req.method) continue;
		const params = segments.filter((_, i) => route.pattern[i] === ':');
		return route.handler(req, ctx, params);
	}
	if (pathMatched) return graphError(req, 405, 'Request_BadRequest', `Specified HTTP method '${req.method}' is not allowed for the request target.`);
	return graphError(req, 400, 'BadRequest', `Resource not found for the segment '${segments[segments.length - 1] ?? ''}'.`);
}

function context(req: GraphRequest, ctx: RouteContext, fragment: string): string {
	return `${ctx.baseUrl}/${req.version}/$metadata#${fragment}`;
}

function withMe(req: GraphRequest, ctx: RouteContext, respond: (user: EmulatedUser) => GraphResult): GraphResult {
	if (ctx.token.kind !== 'delegated' || ctx.token.userId === undefined) {
		return graphError(req, 400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
	}
	const user = ctx.directory.get(ctx.token.userId);
	if (user === undefined) return userNotFound(req, ctx.token.userId);
	return respond(user);
}

function userNotFound(req: GraphRequest, idOrUpn: string): GraphResult {
	return graphError(req, 404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
}

function presenceBody(req: GraphRequest, ctx: RouteContext, user: EmulatedUser, entitySet: string): GraphResult {
	return ok({ '@odata.context': context(req, ctx, `${entitySet}/$entity`), ...user.presence });
}

function presenceById(req: GraphRequest, ctx: RouteContext, id: string, entitySet: string): GraphResult {
	// Presence takes object ids only; a UPN here is a client bug the tests should catch.
	if (!isGuid(id)) return graphError(req, 400, 'BadRequest', `'${id}' is not a valid user id: the presence API takes Entra object ids (GUIDs).`);
	const user = ctx.directory.get(id);
	if (user === undefined) return graphError(req, 404, 'ResourceNotFound', `The user '${id}' was not found.`);
	return presenceBody(req, ctx, user, entitySet);
}

function getPresencesByUserId(req: GraphRequest, ctx: RouteContext): GraphResult {
	const ids: unknown = isRecord(req.body) ? req.body.ids : undefined;
	if (!Array.isArray(ids) || ids.length === 0) {
		return graphError(req, 400, 'BadRequest', "The request body must contain 'ids', a non-empty array of user ids.");
	}
	// Undocumented in Graph; the one public report shows a bare 400, so the message says nothing useful either.
	if (ids.length > MAX_PRESENCE_IDS) return graphError(req, 400, 'BadRequest', 'Bad Request');
	const bad = ids.find((id) => typeof id !== 'string' || !isGuid(id));
	if (bad !== undefined) return graphError(req, 400, 'BadRequest', `Invalid user id '${String(bad)}' in 'ids'.`);

	const seen = new Set<string>();
	const value: unknown[] = [];
	for (const id of ids as string[]) {
		const key = id.toLowerCase();
		if (seen.has(key)) continue;
		seen.add(key);
		const user = ctx.directory.get(key);
		if (user !== undefined) value.push({ '@odata.type': '#microsoft.graph.presence', ...user.presence });
	}
	return ok({ '@odata.context': context(req, ctx, 'Collection(microsoft.graph.presence)'), value: shuffle(value, ctx.shuffleRng) });
}

const USER_PROPERTIES = [
	'businessPhones',
	'displayName',
	'givenName',
	'jobTitle',
	'mail',
	'mobilePhone',
	'officeLocation',
	'preferredLanguage',
	'surname',
	'userPrincipalName',
	'id',
];

function getUser(req: GraphRequest, ctx: RouteContext, [idOrUpn]: string[]): GraphResult {
	const user = ctx.directory.get(idOrUpn);
	if (user === undefined) return userNotFound(req, idOrUpn);
	return userBody(req, ctx, user);
}

function userBody(req: GraphRequest, ctx: RouteContext, user: EmulatedUser): GraphResult {
	const full: Record<string, unknown> = {
		businessPhones: [],
		displayName: user.displayName,
		givenName: user.givenName,
		jobTitle: null,
		mail: user.mail,
		mobilePhone: null,
		officeLocation: null,
		preferredLanguage: null,
		surname: user.surname,
		userPrincipalName: user.userPrincipalName,
		id: user.id,
	};
	const select = req.query.$select;
	if (select === undefined || select.trim() === '') {
		return ok({ '@odata.context': context(req, ctx, 'users/$entity'), ...full });
	}
	const names = select.split(',').map((s) => s.trim()).filter((s) => s !== '');
	const body: Record<string, unknown> = { '@odata.context': context(req, ctx, `users(${names.join(',')})/$entity`) };
	for (const name of names) {
		// Graph matches property names case-insensitively; properties this emulator does not model read as null.
		const canonical = USER_PROPERTIES.find((p) => p.toLowerCase() === name.toLowerCase());
		body[canonical ?? name] = canonical === undefined ? null : full[canonical];
	}
	return ok(body);
}
