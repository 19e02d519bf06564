import {
	allUsers,
	countUsers,
	signedInUser,
	MAX_FILTER_VALUES,
	usersById,
	type DirectoryUser,
} from '../graph/directory';
import { MAX_BATCH_REQUESTS } from '../graph/batch';
import type { GraphClient } from '../transport/graphClient';
import { ExpiringCache } from './expiringCache';

/**
 * Include User Details: each user's display name, user principal name and mail, for the node and
 * both triggers. Names are kept per process for an hour (at most 200,000 users), keyed by the
 * credential that read them, so a trigger looks a user up once, not on every poll or notification.
 *
 * The route, chosen for least privilege and fewest Graph requests:
 * - `GET /users?$filter=id in (…15 ids…)`, 20 to a `$batch` (User.ReadBasic.All delegated,
 *   User.Read.All application): ⌈n / 15⌉ requests, good for a few hundred users;
 * - or the tenant's user list, 999 a page (same permissions): ⌈tenant / 999⌉ requests plus one to
 *   count, taken when that is less than half (100,000 users of a 100,000-user tenant: 102 instead
 *   of 6,667).
 * `directoryObjects/getByIds` would take 1,000 ids a request, but it needs Directory.Read.All
 * (directoryobject-getbyids), which reads the whole directory: not worth 100 requests saved.
 */

export interface UserDetails {
	displayName: string | null;
	userPrincipalName: string | null;
	mail: string | null;
}

/** The flat fields of an item (Simplify, and the triggers' items); null values for an unknown id. */
export function detailFields(details: UserDetails | null): {
	displayName: string | null;
	userPrincipalName: string | null;
	mail: string | null;
} {
	return {
		displayName: details?.displayName ?? null,
		userPrincipalName: details?.userPrincipalName ?? null,
		mail: details?.mail ?? null,
	};
}

const TTL_MS = 60 * 60 * 1000;
const MAX_USERS = 200_000;
const PAGE_SIZE = 999;

/** Object id → details, or null for an id that is no user Graph knows. */
const cache = new ExpiringCache<UserDetails | null>(TTL_MS, MAX_USERS);

function key(client: GraphClient, id: string): string {
	return `${client.cacheScope}|${id.toLowerCase()}`;
}

function detailsOf(user: DirectoryUser): UserDetails {
	return {
		displayName: user.displayName ?? null,
		userPrincipalName: user.userPrincipalName ?? null,
		mail: user.mail ?? null,
	};
}

/** Names that came with another answer (a lookup by name, a group's members): kept for later. */
export function rememberUsers(client: GraphClient, users: Iterable<DirectoryUser>): void {
	const now = Date.now();
	for (const user of users) cache.set(key(client, user.id), detailsOf(user), now);
}

/**
 * The details of these users (object ids), from the cache or from Graph; null for ids Graph knows
 * no user for. Throws Graph's error (with the permission it needs) when the directory cannot be
 * read.
 */
export async function userDetails(
	client: GraphClient,
	ids: Iterable<string>,
): Promise<Map<string, UserDetails | null>> {
	const now = Date.now();
	const result = new Map<string, UserDetails | null>();
	const wanted = new Set<string>();
	for (const raw of ids) {
		const id = raw.toLowerCase();
		if (result.has(id) || wanted.has(id)) continue;
		const cached = cache.get(key(client, id), now);
		if (cached === undefined) wanted.add(id);
		else result.set(id, cached);
	}
	if (wanted.size === 0) return result;

	const pages = await listingPages(client, wanted.size);
	const found =
		pages === undefined
			? await usersById(client, [...wanted])
			: await fromUserList(client, wanted, pages);
	const at = Date.now();
	for (const user of found) {
		const id = user.id.toLowerCase();
		if (!wanted.has(id)) continue;
		const details = detailsOf(user);
		cache.set(key(client, id), details, at);
		result.set(id, details);
	}
	for (const id of wanted) {
		if (result.has(id)) continue;
		cache.set(key(client, id), null, at);
		result.set(id, null);
	}
	return result;
}

/**
 * The pages of the tenant's user list when reading it takes fewer than half the requests of the
 * filters (⌈n / 15⌉), else undefined: pages come one after another (each needs the last one's next
 * link) while filters go out 20 to a batch and batches at once, so the list must save a lot to be
 * worth its wait (2,000 users of a 100,000-user tenant: 134 filters, not 101 pages in a row). More
 * than one `$batch` of filters is worth one request to count the tenant.
 */
async function listingPages(client: GraphClient, wanted: number): Promise<number | undefined> {
	const byFilter = Math.ceil(wanted / MAX_FILTER_VALUES);
	if (byFilter <= MAX_BATCH_REQUESTS) return undefined;
	const pages = Math.ceil((await countUsers(client)) / PAGE_SIZE);
	return 2 * pages < byFilter ? pages : undefined;
}

async function fromUserList(
	client: GraphClient,
	wanted: Set<string>,
	pages: number,
): Promise<DirectoryUser[]> {
	const found: DirectoryUser[] = [];
	let left = wanted.size;
	// A few pages more than counted: `$count` is eventually consistent, and the tenant may grow.
	for await (const users of allUsers(client, pages + 10)) {
		for (const user of users) {
			if (!wanted.has(user.id.toLowerCase())) continue;
			found.push(user);
			left--;
		}
		if (left <= 0) break;
	}
	return found;
}

/**
 * The signed-in user's own names (`GET /me`, which User.Read already allows, and User.ReadBasic.All
 * too), kept like everyone else's.
 */
export async function myDetails(client: GraphClient): Promise<UserDetails | null> {
	const me = await signedInUser(client);
	rememberUsers(client, [me]);
	return detailsOf(me);
}

/** For tests: forget every name. */
export function clearUserDetails(): void {
	cache.clear();
}
