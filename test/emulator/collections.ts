import type { DirectoryObject, EmulatedGroup, EmulatedUser } from './directory';
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

const SEARCHABLE_USER_PROPERTIES = ['displayName', 'mail', 'userPrincipalName'] as const;
type SearchableProperty = (typeof SEARCHABLE_USER_PROPERTIES)[number];

export function fullUser(user: EmulatedUser): Record<string, unknown> {
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

/** Graph matches property names case-insensitively; a user property this emulator does not model reads as null. */
export function selectUser(
	full: Record<string, unknown>,
	names: string[] | undefined,
): Record<string, unknown> {
	if (names === undefined) return { ...full };
	const body: Record<string, unknown> = {};
	for (const name of names) {
		const canonical = USER_PROPERTIES.find((p) => p.toLowerCase() === name.toLowerCase());
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

/** $top (default 100, 1..999), $skiptoken, $count; items are already filtered, ordered and rendered. */
function page(
	req: GraphRequest,
	ctx: RouteContext,
	items: Array<Record<string, unknown>>,
	options: PageOptions,
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
	body.value = items.slice(offset, offset + top);
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
	let users = [...ctx.directory.users];
	if (req.query.$filter !== undefined)
		return unsupported(req, 'The emulator supports $search (not $filter) on /users.');
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
		users.sort(
			(a, b) =>
				compareDisplayNames(a.displayName, b.displayName) * (order.descending ? -1 : 1) ||
				(a.id < b.id ? -1 : 1),
		);
	}
	const names = selectNames(req);
	return page(
		req,
		ctx,
		users.map((u) => selectUser(fullUser(u), names)),
		{ contextFragment: contextWithSelect('users', names) },
	);
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
	return page(
		req,
		ctx,
		groups.map((g) => selectExisting(fullGroup(g), names)),
		{ contextFragment: contextWithSelect('groups', names) },
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
		return page(req, ctx, users, { contextFragment: contextWithSelect('users', names) });
	}
	const all = members.map((m) => ({
		'@odata.type': ODATA_TYPES[m.kind],
		...renderMember(m, names),
	}));
	return page(req, ctx, all, { contextFragment: contextWithSelect('directoryObjects', names) });
}
