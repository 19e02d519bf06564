import type { DirectoryObject, EmulatedGroup, EmulatedUser, FilterProperty } from './directory';
import {
	graphError,
	header,
	metadataContext,
	ok,
	type GraphRequest,
	type GraphResult,
	type RouteContext,
} from './graph-http';
import { isGuid } from './util';

/**
 * Directory collections: GET /users (list, $search), /groups ($filter on displayName), /groups/{id},
 * /groups/{id}/transitiveMembers[/microsoft.graph.user]. Paging is by `@odata.nextLink`, an absolute URL on the
 * emulator carrying every query option of the request plus an opaque `$skiptoken`.
 */

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

/** Returned by default (user-list: "By default, only a limited set of properties are returned"). */
export const USER_PROPERTIES = [
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

/** Returned only on $select (user resource). */
const SELECT_ONLY_USER_PROPERTIES = ['proxyAddresses'];

const SEARCHABLE_USER_PROPERTIES = ['displayName', 'mail', 'userPrincipalName'] as const;
type SearchableProperty = (typeof SEARCHABLE_USER_PROPERTIES)[number];

export function fullUser(user: EmulatedUser): Record<string, unknown> {
	return {
		...defaultUser(user),
		proxyAddresses: [...user.proxyAddresses],
	};
}

function defaultUser(user: EmulatedUser): Record<string, unknown> {
	return {
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
}

export function selectNames(req: GraphRequest): string[] | undefined {
	const select = req.query.$select;
	if (select === undefined || select.trim() === '') return undefined;
	return select
		.split(',')
		.map((s) => s.trim())
		.filter((s) => s !== '');
}

/**
 * Graph matches property names case-insensitively; a user property this emulator does not model reads as null.
 * Without $select only the default set comes back.
 */
export function selectUser(
	full: Record<string, unknown>,
	names: string[] | undefined,
): Record<string, unknown> {
	if (names === undefined) {
		const body: Record<string, unknown> = {};
		for (const name of USER_PROPERTIES) body[name] = full[name];
		return body;
	}
	const body: Record<string, unknown> = {};
	for (const name of names) {
		const canonical = [...USER_PROPERTIES, ...SELECT_ONLY_USER_PROPERTIES].find(
			(p) => p.toLowerCase() === name.toLowerCase(),
		);
		body[canonical ?? name] = canonical === undefined ? null : full[canonical];
	}
	return body;
}

/** For other object types: only the selected properties the object has (an orgContact has no userPrincipalName). */
function selectExisting(
	full: Record<string, unknown>,
	names: string[] | undefined,
): Record<string, unknown> {
	if (names === undefined) return { ...full };
	const body: Record<string, unknown> = {};
	for (const name of names) {
		const canonical = Object.keys(full).find((p) => p.toLowerCase() === name.toLowerCase());
		if (canonical !== undefined) body[canonical] = full[canonical];
	}
	return body;
}

function unsupported(req: GraphRequest, message: string): GraphResult {
	return graphError(req, 400, 'Request_UnsupportedQuery', message);
}

function eventual(req: GraphRequest): boolean {
	return header(req, 'consistencylevel')?.trim().toLowerCase() === 'eventual';
}

interface PageOptions {
	/** After '$metadata#', e.g. 'users' or 'directoryObjects'. */
	contextFragment: string;
}

function encodeSkipToken(offset: number): string {
	return Buffer.from(`emu-skip:${offset}`).toString('base64url');
}

function decodeSkipToken(token: string): number | undefined {
	const m = /^emu-skip:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
	return m === null ? undefined : Number(m[1]);
}

/**
 * $top (default 100, 1..999: "the GET /users endpoint returns a default value of 100 results in a
 * single page", concepts/paging.md; 999 is the largest $top user-list accepts), $skiptoken, $count;
 * items are already filtered and ordered, and `render` turns only the page's own items into JSON
 * (listing 100,000 users a page at a time stays cheap).
 */
function page<T>(
	req: GraphRequest,
	ctx: RouteContext,
	items: readonly T[],
	options: PageOptions,
	render: (item: T) => Record<string, unknown>,
): GraphResult {
	const rawTop = req.query.$top;
	let top = DEFAULT_PAGE_SIZE;
	if (rawTop !== undefined) {
		top = /^\d+$/.test(rawTop.trim()) ? Number(rawTop.trim()) : NaN;
		if (!(top >= 1 && top <= MAX_PAGE_SIZE)) {
			return graphError(
				req,
				400,
				'Request_BadRequest',
				`Invalid page size specified: '${rawTop}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`,
			);
		}
	}
	let offset = 0;
	const rawSkip = req.query.$skiptoken;
	if (rawSkip !== undefined) {
		const decoded = decodeSkipToken(rawSkip);
		if (decoded === undefined)
			return graphError(req, 400, 'Request_BadRequest', `Invalid $skiptoken '${rawSkip}'.`);
		offset = decoded;
	}
	const rawCount = req.query.$count;
	if (rawCount !== undefined && !['true', 'false'].includes(rawCount.toLowerCase())) {
		return graphError(
			req,
			400,
			'Request_BadRequest',
			`Invalid value '${rawCount}' for $count: use true or false.`,
		);
	}
	const count = rawCount?.toLowerCase() === 'true';
	// Counting directory objects is an advanced query: Graph wants the ConsistencyLevel header for it.
	if (count && !eventual(req)) {
		return graphError(
			req,
			400,
			'Request_BadRequest',
			"$count is not currently supported without the request header 'ConsistencyLevel: eventual'.",
		);
	}
	const body: Record<string, unknown> = {
		'@odata.context': metadataContext(req, ctx, options.contextFragment),
	};
	if (count) body['@odata.count'] = items.length;
	if (offset + top < items.length) body['@odata.nextLink'] = nextLink(req, ctx, offset + top);
	body.value = items.slice(offset, offset + top).map(render);
	return ok(body);
}

/** Keeps '$' literal in the option names, as Graph's own next links do. */
function nextLink(req: GraphRequest, ctx: RouteContext, offset: number): string {
	const parts = Object.entries(req.query)
		.filter(([name]) => name !== '$skiptoken')
		.map(
			([name, value]) =>
				`${name.split('$').map(encodeURIComponent).join('$')}=${encodeURIComponent(value)}`,
		);
	parts.push(`$skiptoken=${encodeSkipToken(offset)}`);
	return `${ctx.baseUrl}/${req.version}${req.path}?${parts.join('&')}`;
}

const same = (item: Record<string, unknown>): Record<string, unknown> => item;

function contextWithSelect(entitySet: string, names: string[] | undefined): string {
	return names === undefined ? entitySet : `${entitySet}(${names.join(',')})`;
}

// ---- users ----

interface SearchClause {
	property: SearchableProperty;
	term: string;
}

/**
 * `"displayName:ann" OR "mail:ann"`: quoted property:term clauses joined by OR / AND (AND binds tighter).
 * Returns OR-groups of AND-clauses, or an error message.
 */
export function parseUserSearch(search: string): SearchClause[][] | string {
	const groups: SearchClause[][] = [[]];
	let i = 0;
	let expectClause = true;
	const text = search.trim();
	if (text === '') return '$search is empty.';
	while (i < text.length) {
		if (/\s/.test(text[i])) {
			i += 1;
			continue;
		}
		if (expectClause) {
			if (text[i] !== '"')
				return `Syntax error in $search at position ${i}: each clause must be quoted, e.g. "displayName:ann".`;
			const end = text.indexOf('"', i + 1);
			if (end < 0) return 'Syntax error in $search: unterminated quoted clause.';
			const clause = text.slice(i + 1, end);
			const colon = clause.indexOf(':');
			const property = SEARCHABLE_USER_PROPERTIES.find(
				(p) => p.toLowerCase() === clause.slice(0, colon).trim().toLowerCase(),
			);
			if (colon < 0 || property === undefined) {
				return `Unsupported $search clause "${clause}": use "displayName:…", "mail:…" or "userPrincipalName:…".`;
			}
			groups[groups.length - 1].push({ property, term: clause.slice(colon + 1).toLowerCase() });
			i = end + 1;
			expectClause = false;
		} else {
			const m = /^(OR|AND)(?=\s|")/i.exec(text.slice(i));
			if (m === null)
				return `Syntax error in $search at position ${i}: expected OR or AND between clauses.`;
			if (m[1].toUpperCase() === 'OR') groups.push([]);
			i += m[1].length;
			expectClause = true;
		}
	}
	if (expectClause) return 'Syntax error in $search: it ends with an operator.';
	return groups;
}

/** Case-insensitive substring match (which covers Graph's word-prefix match). */
function matchesSearch(user: EmulatedUser, groups: SearchClause[][]): boolean {
	return groups.some((clauses) =>
		clauses.every((c) => user[c.property].toLowerCase().includes(c.term)),
	);
}

function compareDisplayNames(a: string, b: string): number {
	const x = a.toLowerCase();
	const y = b.toLowerCase();
	return x < y ? -1 : x > y ? 1 : 0;
}

/** `displayName`, `displayName asc|desc`; returns a comparator factor or an error. */
function parseOrderBy(req: GraphRequest): { descending: boolean } | undefined | string {
	const raw = req.query.$orderby;
	if (raw === undefined || raw.trim() === '') return undefined;
	const m = /^\s*displayName(?:\s+(asc|desc))?\s*$/i.exec(raw);
	if (m === null)
		return `$orderby '${raw}' is not supported by the emulator: use displayName [asc|desc].`;
	return { descending: m[1]?.toLowerCase() === 'desc' };
}

export function listUsers(req: GraphRequest, ctx: RouteContext): GraphResult {
	let users: readonly EmulatedUser[] = ctx.directory.users;
	const filter = req.query.$filter;
	if (filter !== undefined) {
		const found = filterUsers(req, ctx, filter);
		if (!Array.isArray(found)) return found;
		users = found;
	}
	const search = req.query.$search;
	if (search !== undefined) {
		if (!eventual(req)) {
			return unsupported(
				req,
				"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
			);
		}
		const parsed = parseUserSearch(search);
		if (typeof parsed === 'string') return graphError(req, 400, 'Request_BadRequest', parsed);
		users = users.filter((u) => matchesSearch(u, parsed));
	}
	const order = parseOrderBy(req);
	if (typeof order === 'string') return unsupported(req, order);
	if (order !== undefined) {
		users = [...users].sort(
			(a, b) =>
				compareDisplayNames(a.displayName, b.displayName) * (order.descending ? -1 : 1) ||
				(a.id < b.id ? -1 : 1),
		);
	}
	const names = selectNames(req);
	return page(req, ctx, users, { contextFragment: contextWithSelect('users', names) }, (u) =>
		selectUser(fullUser(u), names),
	);
}

/**
 * One comparison of a users `$filter`: `property eq 'v'`, `property in ('v', …)`, or
 * `proxyAddresses/any(p:p eq 'smtp:v')`. Clauses are joined by `or`.
 */
export type UserFilterClause =
	| { property: FilterProperty; values: string[] }
	| { property: 'proxyAddresses'; values: string[] };

/**
 * "When using the `in` operator, the request is limited to 15 expressions in the filter clause by default OR a
 * URL length of 2,048 characters when using advanced query capabilities" (Graph's known issues, "Some limitations
 * apply to query parameters", linked from concepts/filter-query-parameter.md as /graph/known-issues?search=13635).
 * Every value compared counts, whichever operator compares it.
 */
export const MAX_FILTER_EXPRESSIONS = 15;
export const MAX_ADVANCED_QUERY_URL = 2048;

const FILTER_PROPERTIES: readonly FilterProperty[] = [
	'id',
	'userPrincipalName',
	'mail',
	'displayName',
];

/** Parses the filters this emulator understands on /users, or says why not (the text of Graph's 400). */
export function parseUserFilter(filter: string): UserFilterClause[] | string {
	const clauses: UserFilterClause[] = [];
	let rest = filter.trim();
	const quoted = /^'((?:[^']|'')*)'/;
	const take = (pattern: RegExp): RegExpExecArray | null => {
		const m = pattern.exec(rest);
		if (m !== null) rest = rest.slice(m[0].length).trimStart();
		return m;
	};
	const value = (): string | undefined => {
		const m = take(quoted);
		return m === null ? undefined : m[1].replace(/''/g, "'");
	};
	for (;;) {
		const any = take(/^proxyAddresses\/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+/i);
		if (any !== null) {
			if (any[1] !== any[2])
				return `Invalid filter clause: the range variable '${any[2]}' is not '${any[1]}'.`;
			const v = value();
			if (v === undefined || take(/^\)/) === null)
				return "Invalid filter clause: expected proxyAddresses/any(p:p eq 'value').";
			clauses.push({ property: 'proxyAddresses', values: [v] });
		} else {
			const m = take(/^(\w+)\s+(eq|in)\s*/i);
			const property = FILTER_PROPERTIES.find((p) => p.toLowerCase() === m?.[1].toLowerCase());
			if (m === null || property === undefined) {
				return `Unsupported query: the emulator filters users by id, userPrincipalName, mail or displayName (eq, in) and proxyAddresses/any(p:p eq '…'), joined by or; got '${filter}'.`;
			}
			const values: string[] = [];
			if (m[2].toLowerCase() === 'eq') {
				const v = value();
				if (v === undefined)
					return `Invalid filter clause: expected a quoted value after ${m[1]} eq.`;
				values.push(v);
			} else {
				if (take(/^\(\s*/) === null) return `Invalid filter clause: expected ( after ${m[1]} in.`;
				for (;;) {
					const v = value();
					if (v === undefined)
						return `Invalid filter clause: expected a quoted value in ${m[1]} in (…).`;
					values.push(v);
					if (take(/^,\s*/) !== null) continue;
					if (take(/^\)/) !== null) break;
					return `Invalid filter clause: expected , or ) in ${m[1]} in (…).`;
				}
			}
			clauses.push({ property, values });
		}
		rest = rest.trimStart();
		if (rest === '') return clauses;
		if (take(/^or\s+/i) === null) return `Syntax error in $filter near '${rest.slice(0, 40)}'.`;
	}
}

/**
 * The users a `$filter` selects, or Graph's 400. Values are compared case-insensitively (see Directory.findBy).
 * "Resources for which the expression … reference properties that are unavailable due to permissions, are
 * omitted from the response" (concepts/filter-query-parameter.md): proxyAddresses is not among the basic profile
 * that User.ReadBasic.All reads (permissions reference), so a delegated token limited to it finds nobody by alias.
 */
function filterUsers(
	req: GraphRequest,
	ctx: RouteContext,
	filter: string,
): EmulatedUser[] | GraphResult {
	const clauses = parseUserFilter(filter);
	if (typeof clauses === 'string') return unsupported(req, clauses);
	const expressions = clauses.reduce((sum, clause) => sum + clause.values.length, 0);
	const advanced = eventual(req) && req.query.$count?.toLowerCase() === 'true';
	if (advanced) {
		const url = `/${req.version}${req.path}?${Object.entries(req.query)
			.map(([name, v]) => `${name}=${encodeURIComponent(v)}`)
			.join('&')}`;
		if (url.length > MAX_ADVANCED_QUERY_URL)
			return graphError(req, 414, 'Request_UriTooLong', 'The request URL is too long.');
	} else if (expressions > MAX_FILTER_EXPRESSIONS) {
		// The status and text developers report for this limit; the known issue names only the figure.
		return unsupported(
			req,
			`Too many child clauses specified in search filter expression containing 'OR' operators: ${expressions}. Max allowed: ${MAX_FILTER_EXPRESSIONS}.`,
		);
	}
	const aliasesReadable = !readsBasicProfileOnly(ctx);
	const found = new Set<EmulatedUser>();
	for (const clause of clauses) {
		for (const v of clause.values) {
			const users =
				clause.property === 'proxyAddresses'
					? aliasesReadable
						? ctx.directory.findByProxyAddress(v)
						: []
					: ctx.directory.findBy(clause.property, v);
			for (const user of users) found.add(user);
		}
	}
	return [...found];
}

/** A delegated token whose scopes read users' basic profiles and nothing more. */
function readsBasicProfileOnly(ctx: RouteContext): boolean {
	if (ctx.token.kind !== 'delegated') return false;
	const scopes = ctx.token.scope
		.split(/\s+/)
		.map((scope) => scope.replace(/^.*\//, '').toLowerCase());
	const full = [
		'user.read.all',
		'user.readwrite.all',
		'directory.read.all',
		'directory.readwrite.all',
	];
	return scopes.includes('user.readbasic.all') && !scopes.some((scope) => full.includes(scope));
}

// ---- groups ----

function fullGroup(group: EmulatedGroup): Record<string, unknown> {
	return {
		id: group.id,
		displayName: group.displayName,
		description: null,
		groupTypes: [],
		mail: null,
		mailEnabled: false,
		mailNickname:
			group.displayName.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || group.id.slice(0, 8),
		securityEnabled: true,
	};
}

/** `displayName eq 'O''Brien'` -> "O'Brien"; undefined when the filter has another shape. */
export function parseDisplayNameFilter(filter: string): string | undefined {
	const m = /^\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
	return m === null ? undefined : m[1].replace(/''/g, "'");
}

export function listGroups(req: GraphRequest, ctx: RouteContext): GraphResult {
	let groups = [...ctx.directory.groups];
	const filter = req.query.$filter;
	if (filter !== undefined) {
		const name = parseDisplayNameFilter(filter);
		if (name === undefined)
			return unsupported(
				req,
				`Unsupported query: the emulator filters groups by "displayName eq '…'" only, got '${filter}'.`,
			);
		groups = groups.filter((g) => g.displayName.toLowerCase() === name.toLowerCase());
	}
	const names = selectNames(req);
	return page(req, ctx, groups, { contextFragment: contextWithSelect('groups', names) }, (g) =>
		selectExisting(fullGroup(g), names),
	);
}

function groupNotFound(req: GraphRequest, id: string): GraphResult {
	if (!isGuid(id))
		return graphError(req, 400, 'Request_BadRequest', `Invalid object identifier '${id}'.`);
	return graphError(
		req,
		404,
		'Request_ResourceNotFound',
		`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
	);
}

export function getGroup(req: GraphRequest, ctx: RouteContext, [id]: string[]): GraphResult {
	const group = ctx.directory.getGroup(id);
	if (group === undefined) return groupNotFound(req, id);
	const names = selectNames(req);
	return ok({
		'@odata.context': metadataContext(req, ctx, `${contextWithSelect('groups', names)}/$entity`),
		...selectExisting(fullGroup(group), names),
	});
}

const ODATA_TYPES: Record<DirectoryObject['kind'], string> = {
	user: '#microsoft.graph.user',
	group: '#microsoft.graph.group',
	device: '#microsoft.graph.device',
	orgContact: '#microsoft.graph.orgContact',
};

function renderMember(
	member: DirectoryObject,
	names: string[] | undefined,
): Record<string, unknown> {
	switch (member.kind) {
		case 'user':
			return selectUser(fullUser(member.user), names);
		case 'group':
			return selectExisting(fullGroup(member.group), names);
		case 'device':
			return selectExisting(
				{
					id: member.id,
					displayName: member.displayName,
					accountEnabled: true,
					deviceId: member.id,
					operatingSystem: 'Windows',
					operatingSystemVersion: '10.0.22631',
				},
				names,
			);
		case 'orgContact':
			return selectExisting(
				{
					id: member.id,
					displayName: member.displayName,
					givenName: 'Contact',
					surname: String(member.n),
					mail: `contact${member.n}@fabrikam.test`,
				},
				names,
			);
	}
}

export function transitiveMembers(
	req: GraphRequest,
	ctx: RouteContext,
	[id]: string[],
	usersOnly: boolean,
): GraphResult {
	const members = ctx.directory.transitiveMembers(id);
	if (members === undefined) return groupNotFound(req, id);
	const names = selectNames(req);
	if (usersOnly) {
		const users = members.filter((m) => m.kind === 'user').map((m) => renderMember(m, names));
		return page(req, ctx, users, { contextFragment: contextWithSelect('users', names) }, same);
	}
	const all = members.map((m) => ({
		'@odata.type': ODATA_TYPES[m.kind],
		...renderMember(m, names),
	}));
	return page(
		req,
		ctx,
		all,
		{ contextFragment: contextWithSelect('directoryObjects', names) },
		same,
	);
}
