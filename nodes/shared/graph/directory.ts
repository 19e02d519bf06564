import { NodeOperationError, type NodeApiError } from 'n8n-workflow';

import { isRecord } from '../guards';
import { chunk } from '../presence/batching';
import { aliasLookupHint, userDetailsHint, userLookupHint } from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';
import { isGuid } from '../users/ids';
import { sendBatched, subRequestError } from './batch';
import { isNextPageOf, page, pages } from './paging';

/**
 * Entra's directory as the node needs it: names and addresses to users, users' names by id, a
 * group's members, the user picker's pages.
 */

/** What a lookup found for one value: the users that matched (none, one, or several), or an error. */
export type Matches = { users: DirectoryUser[] } | { error: NodeApiError };

/** The fields the node shows of a user, and the id; a `$select` keeps answers small (and cheaper). */
const USER_FIELDS = 'id,displayName,userPrincipalName,mail';

/**
 * "When using the `in` operator, the request is limited to 15 expressions in the filter clause by
 * default" (Graph's known issues, linked from concepts/filter-query-parameter.md): 15 values per
 * filter, 20 filters per `$batch`, so 300 values per HTTP request.
 */
export const MAX_FILTER_VALUES = 15;

/** An OData string literal: quotes doubled. */
function literal(value: string): string {
	return `'${value.replace(/'/g, "''")}'`;
}

function usersPath(filter: string): string {
	return `/users?$filter=${encodeURIComponent(filter)}&$select=${USER_FIELDS}&$top=999`;
}

/** The users of a collection answer, only entries with a GUID id. */
function usersOf(body: unknown): DirectoryUser[] {
	if (!isRecord(body) || !Array.isArray(body.value)) return [];
	return body.value.flatMap(toDirectoryUser).filter((user) => isGuid(user.id));
}

/**
 * Finds users by `userPrincipalName` or `mail` (user resource: both support `$filter` with `in`),
 * 15 values to a filter. Keys of the answer are the values in lower case; Entra compares these
 * strings case-insensitively.
 */
export async function usersByProperty(
	client: GraphClient,
	property: 'userPrincipalName' | 'mail',
	values: readonly string[],
): Promise<Map<string, Matches>> {
	const keys = [...new Set(values.map((value) => value.toLowerCase()))];
	const groups = chunk(keys, MAX_FILTER_VALUES);
	const answers = await sendBatched(
		client,
		groups.map((group) => ({
			method: 'GET',
			url: usersPath(`${property} in (${group.map(literal).join(',')})`),
		})),
		userLookupHint,
	);
	const found = new Map<string, Matches>();
	answers.forEach((answer, index) => {
		const group = groups[index];
		if ('error' in answer || answer.status >= 300) {
			const error =
				'error' in answer ? answer.error : subRequestError(client, answer, userLookupHint);
			for (const key of group) found.set(key, { error });
			return;
		}
		const users = usersOf(answer.body);
		for (const key of group) {
			found.set(key, {
				users: users.filter((user) => user[property]?.toLowerCase() === key),
			});
		}
	});
	return found;
}

/**
 * Finds users by an alias among their `proxyAddresses` (`proxyAddresses/any(p:p eq 'smtp:…')`, one
 * address a request: the property takes `eq`, not `in`). Graph leaves out users whose property the
 * caller may not read, so with User.ReadBasic.All only, nobody is found by alias.
 */
export async function usersByAlias(
	client: GraphClient,
	values: readonly string[],
): Promise<Map<string, Matches>> {
	const keys = [...new Set(values.map((value) => value.toLowerCase()))];
	const answers = await sendBatched(
		client,
		keys.map((key) => ({
			method: 'GET',
			url: usersPath(`proxyAddresses/any(p:p eq ${literal(`smtp:${key}`)})`),
		})),
		aliasLookupHint,
	);
	const found = new Map<string, Matches>();
	answers.forEach((answer, index) => {
		found.set(
			keys[index],
			'error' in answer
				? { error: answer.error }
				: answer.status >= 300
					? { error: subRequestError(client, answer, aliasLookupHint) }
					: { users: usersOf(answer.body) },
		);
	});
	return found;
}

/**
 * Users by object id, 15 ids to a filter (`id in (…)`, user resource): the ids Graph does not know
 * are absent from the answer. Throws the first error.
 */
export async function usersById(
	client: GraphClient,
	ids: readonly string[],
): Promise<DirectoryUser[]> {
	const answers = await sendBatched(
		client,
		chunk(ids, MAX_FILTER_VALUES).map((group) => ({
			method: 'GET',
			url: usersPath(`id in (${group.map(literal).join(',')})`),
		})),
		userDetailsHint,
	);
	const users: DirectoryUser[] = [];
	for (const answer of answers) {
		if ('error' in answer) throw answer.error;
		if (answer.status >= 300) throw subRequestError(client, answer, userDetailsHint);
		users.push(...usersOf(answer.body));
	}
	return users;
}

/** The signed-in user's names (`GET /me`; delegated only). */
export async function signedInUser(client: GraphClient): Promise<DirectoryUser> {
	const answer = await client.request(
		{ method: 'GET', path: `/me?$select=${USER_FIELDS}`, hint: userDetailsHint },
		(body): body is Record<string, unknown> => isRecord(body) && typeof body.id === 'string',
	);
	const [me] = toDirectoryUser(answer);
	return me;
}

/** How many users the tenant has (`$count` is an advanced query: ConsistencyLevel eventual). */
export async function countUsers(client: GraphClient): Promise<number> {
	const answer = await client.request(
		{
			method: 'GET',
			path: '/users?$count=true&$top=1&$select=id',
			headers: { ConsistencyLevel: 'eventual' },
			hint: userDetailsHint,
		},
		(body): body is { '@odata.count': number } =>
			isRecord(body) && typeof body['@odata.count'] === 'number',
	);
	return answer['@odata.count'];
}

/**
 * Every user of the tenant, 999 to a page (user-list's largest page), a page at a time, at most
 * `maxPages` pages (a tenant that grows while it is read, or a next link that never ends, stops
 * there).
 */
export async function* allUsers(
	client: GraphClient,
	maxPages: number,
): AsyncGenerator<DirectoryUser[]> {
	let next: string | undefined = `/users?$select=${USER_FIELDS}&$top=999`;
	for (let read = 0; next !== undefined && read < maxPages; read++) {
		const answer: { value: unknown[]; '@odata.nextLink'?: unknown } = await client.request(
			{ method: 'GET', path: next, hint: userDetailsHint },
			(body): body is { value: unknown[]; '@odata.nextLink'?: unknown } =>
				isRecord(body) && Array.isArray(body.value),
		);
		const link = answer['@odata.nextLink'];
		next = typeof link === 'string' ? link : undefined;
		yield answer.value.flatMap(toDirectoryUser);
	}
}

/**
 * Object ids of a group's members, nested groups included, users only. `group` is an object id or a
 * display name.
 */
export async function groupMemberIds(
	client: GraphClient,
	group: string,
	/** Sees the members' names as they come (they are in the same pages, at no extra request). */
	onUsers?: (users: DirectoryUser[]) => void,
): Promise<string[]> {
	let groupId = group.trim();
	if (!isGuid(groupId)) {
		const filter = encodeURIComponent(`displayName eq ${literal(groupId)}`);
		const found = await page(client, `/groups?$filter=${filter}&$select=id,displayName`);
		const ids = found.value
			.filter(isRecord)
			.map((entry) => entry.id)
			.filter((id): id is string => typeof id === 'string');
		if (ids.length !== 1) {
			throw new NodeOperationError(
				client.node,
				ids.length === 0
					? `No group named "${groupId}"`
					: `${ids.length} groups are named "${groupId}"`,
				{ description: "Give the group's object ID to be unambiguous." },
			);
		}
		groupId = ids[0];
	}
	const members = new Set<string>();
	const path = `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=${onUsers ? USER_FIELDS : 'id'}&$top=999`;
	for await (const entries of pages(client, path)) {
		const users = entries.flatMap(toDirectoryUser);
		for (const user of users) members.add(user.id.toLowerCase());
		onUsers?.(users);
	}
	return [...members];
}

export interface DirectoryUser {
	id: string;
	displayName?: string;
	userPrincipalName?: string;
	mail?: string;
}

/** A directory entry's fields that are text; anything else Graph might put there is left out. */
function toDirectoryUser(value: unknown): DirectoryUser[] {
	if (!isRecord(value) || typeof value.id !== 'string') return [];
	const text = (field: unknown) => (typeof field === 'string' && field !== '' ? field : undefined);
	return [
		{
			id: value.id,
			displayName: text(value.displayName),
			userPrincipalName: text(value.userPrincipalName),
			mail: text(value.mail),
		},
	];
}

/**
 * One page of the tenant's people for the user picker: by name or e-mail (`$search` needs Graph's
 * `ConsistencyLevel: eventual` header), or everyone by name; `next` continues a listing.
 */
export async function searchUsers(
	client: GraphClient,
	term: string,
	next?: string,
): Promise<{ users: DirectoryUser[]; next?: string }> {
	const select = `$select=${USER_FIELDS}&$top=50`;
	const cleaned = term.replace(/["\\]/g, '').trim();
	const search = `"displayName:${cleaned}" OR "mail:${cleaned}" OR "userPrincipalName:${cleaned}"`;
	const first = cleaned
		? `/users?$search=${encodeURIComponent(search)}&$orderby=displayName&$count=true&${select}`
		: `/users?$orderby=displayName&${select}`;
	// `next` comes back from the browser: followed only as the next page of this very search.
	if (next !== undefined && !isNextPageOf(client, next, first)) {
		throw new NodeOperationError(
			client.node,
			"The user list's page token is not a next page of this search on the credential's Graph host; not followed",
			{ description: 'Search again to start from the first page.' },
		);
	}
	const answer = await page(client, next ?? first, { ConsistencyLevel: 'eventual' });
	return { users: answer.value.flatMap(toDirectoryUser), next: answer.next };
}
