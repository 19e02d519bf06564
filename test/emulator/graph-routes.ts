import {
	fullUser,
	getGroup,
	listGroups,
	listUsers,
	selectNames,
	selectUser,
	transitiveMembers,
} from './collections';
import type { EmulatedUser } from './directory';
import {
	graphError,
	metadataContext,
	ok,
	userNotFound,
	type GraphRequest,
	type GraphResult,
	type RouteContext,
} from './graph-http';
import { PRESENCE_ACTIONS } from './presence-writes';
import { isGuid, isRecord, shuffle } from './util';

export { GRAPH_JSON, graphError } from './graph-http';
export type { GraphRequest, GraphResult, RouteContext } from './graph-http';
export const MAX_PRESENCE_IDS = 650;

type Handler = (req: GraphRequest, ctx: RouteContext, params: string[]) => GraphResult;

interface Route {
	/** Lowercase literal segments; ':' marks a parameter. */
	pattern: string[];
	method: string;
	handler: Handler;
}

const ROUTES: Route[] = [
	{
		pattern: ['me'],
		method: 'GET',
		handler: (req, ctx) => withMe(req, ctx, (user) => userBody(req, ctx, user)),
	},
	{
		pattern: ['me', 'presence'],
		method: 'GET',
		handler: (req, ctx) =>
			withMe(req, ctx, (user) => presenceBody(req, ctx, user, `users('${user.id}')/presence`)),
	},
	{ pattern: ['users', ':'], method: 'GET', handler: getUser },
	{
		pattern: ['users', ':', 'presence'],
		method: 'GET',
		handler: (req, ctx, [id]) => presenceById(req, ctx, id, `users('${id}')/presence`),
	},
	{
		pattern: ['communications', 'presences', ':'],
		method: 'GET',
		handler: (req, ctx, [id]) => presenceById(req, ctx, id, 'communications/presences'),
	},
	{
		pattern: ['communications', 'getpresencesbyuserid'],
		method: 'POST',
		handler: getPresencesByUserId,
	},
	{ pattern: ['users'], method: 'GET', handler: listUsers },
	{ pattern: ['groups'], method: 'GET', handler: listGroups },
	{ pattern: ['groups', ':'], method: 'GET', handler: getGroup },
	{
		pattern: ['groups', ':', 'transitivemembers'],
		method: 'GET',
		handler: (req, ctx, params) => transitiveMembers(req, ctx, params, false),
	},
	{
		pattern: ['groups', ':', 'transitivemembers', 'microsoft.graph.user'],
		method: 'GET',
		handler: (req, ctx, params) => transitiveMembers(req, ctx, params, true),
	},
	...PRESENCE_ACTIONS.flatMap((action): Route[] => {
		const name = action.name.toLowerCase();
		const me: Route = {
			pattern: ['me', 'presence', name],
			method: 'POST',
			handler: (req, ctx) => withMe(req, ctx, (user) => action.handler(req, ctx, user)),
		};
		if (action.meOnly) return [me];
		return [
			me,
			{
				pattern: ['users', ':', 'presence', name],
				method: 'POST',
				handler: (req, ctx, [id]) =>
					withPresenceUser(req, ctx, id, (user) => action.handler(req, ctx, user)),
			},
		];
	}),
];

/** Every Graph route except $batch, which the emulator handles because it re-enters logging, faults and throttling. */
export function routeGraph(req: GraphRequest, ctx: RouteContext): GraphResult {
	let segments: string[];
	try {
		segments = req.path
			.split('/')
			.filter((s) => s !== '')
			.map((s) => decodeURIComponent(s));
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
	if (pathMatched)
		return graphError(
			req,
			405,
			'Request_BadRequest',
			`Specified HTTP method '${req.method}' is not allowed for the request target.`,
		);
	return graphError(
		req,
		400,
		'BadRequest',
		`Resource not found for the segment '${segments[segments.length - 1] ?? ''}'.`,
	);
}

function context(req: GraphRequest, ctx: RouteContext, fragment: string): string {
	return metadataContext(req, ctx, fragment);
}

function withMe(
	req: GraphRequest,
	ctx: RouteContext,
	respond: (user: EmulatedUser) => GraphResult,
): GraphResult {
	if (ctx.token.kind !== 'delegated' || ctx.token.userId === undefined) {
		return graphError(
			req,
			400,
			'BadRequest',
			'/me request is only valid with delegated authentication flow.',
		);
	}
	const user = ctx.directory.get(ctx.token.userId);
	if (user === undefined) return userNotFound(req, ctx.token.userId);
	return respond(user);
}

function presenceBody(
	req: GraphRequest,
	ctx: RouteContext,
	user: EmulatedUser,
	entitySet: string,
): GraphResult {
	const presence = ctx.directory.effectivePresence(user, ctx.now);
	ctx.served?.(presence);
	return ok({
		'@odata.context': context(req, ctx, `${entitySet}/$entity`),
		...presence,
	});
}

function withPresenceUser(
	req: GraphRequest,
	ctx: RouteContext,
	id: string,
	respond: (user: EmulatedUser) => GraphResult,
): GraphResult {
	// Presence takes object ids only; a UPN here is a client bug the tests should catch.
	if (!isGuid(id))
		return graphError(
			req,
			400,
			'BadRequest',
			`'${id}' is not a valid user id: the presence API takes Entra object ids (GUIDs).`,
		);
	const user = ctx.directory.get(id);
	if (user === undefined)
		return graphError(req, 404, 'ResourceNotFound', `The user '${id}' was not found.`);
	return respond(user);
}

function presenceById(
	req: GraphRequest,
	ctx: RouteContext,
	id: string,
	entitySet: string,
): GraphResult {
	return withPresenceUser(req, ctx, id, (user) => presenceBody(req, ctx, user, entitySet));
}

function getPresencesByUserId(req: GraphRequest, ctx: RouteContext): GraphResult {
	const ids: unknown = isRecord(req.body) ? req.body.ids : undefined;
	if (!Array.isArray(ids) || ids.length === 0) {
		return graphError(
			req,
			400,
			'BadRequest',
			"The request body must contain 'ids', a non-empty array of user ids.",
		);
	}
	// Undocumented in Graph; the one public report shows a bare 400, so the message says nothing useful either.
	if (ids.length > MAX_PRESENCE_IDS) return graphError(req, 400, 'BadRequest', 'Bad Request');
	const bad = ids.find((id) => typeof id !== 'string' || !isGuid(id));
	if (bad !== undefined)
		return graphError(req, 400, 'BadRequest', `Invalid user id '${String(bad)}' in 'ids'.`);

	const seen = new Set<string>();
	const value: unknown[] = [];
	for (const id of ids as string[]) {
		const key = id.toLowerCase();
		if (seen.has(key)) continue;
		seen.add(key);
		const user = ctx.directory.get(key);
		if (user === undefined) continue;
		const presence = ctx.directory.effectivePresence(user, ctx.now);
		ctx.served?.(presence);
		value.push({ '@odata.type': '#microsoft.graph.presence', ...presence });
	}
	return ok({
		'@odata.context': context(req, ctx, 'Collection(microsoft.graph.presence)'),
		value: shuffle(value, ctx.shuffleRng),
	});
}

/**
 * `GET /users/{id | userPrincipalName}` (api-reference/v1.0/api/user-get.md): the key is the object id or the
 * UPN, never the e-mail address, so `/users/{mail}` is a 404 for every user whose mail differs from the UPN.
 */
function getUser(req: GraphRequest, ctx: RouteContext, [idOrUpn]: string[]): GraphResult {
	const user = ctx.directory.get(idOrUpn);
	if (user === undefined) return userNotFound(req, idOrUpn);
	return userBody(req, ctx, user);
}

function userBody(req: GraphRequest, ctx: RouteContext, user: EmulatedUser): GraphResult {
	const names = selectNames(req);
	const fragment = names === undefined ? 'users/$entity' : `users(${names.join(',')})/$entity`;
	return ok({
		'@odata.context': context(req, ctx, fragment),
		...selectUser(fullUser(user), names),
	});
}
