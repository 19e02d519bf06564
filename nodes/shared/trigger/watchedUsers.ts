import {
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type IPollFunctions,
	type ITriggerFunctions,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { groupMemberIds } from '../graph/directory';
import { chunk } from '../presence/batching';
import { parseUserIds, type UserRef } from '../users/ids';
import { resolveUsers } from '../users/resolveUsers';
import { rememberUsers } from '../users/userDetails';
import type { GraphClient } from '../transport/graphClient';

/**
 * User principal names are looked up again after this long (people rename; object ids never
 * change).
 */
const NAME_LOOKUP_TTL_MS = 24 * 60 * 60 * 1000;
/** Names looked up and kept together (50 `$batch` requests of 20). */
const NAMES_PER_SLICE = 1000;

/** What a trigger keeps about whom it watches, in the workflow's static data for its node. */
export interface WatchState extends IDataObject {
	/** upn (lower case) → object id and when it was looked up. */
	names?: Record<string, { id: string; at: number }>;
	/** The watched group's members and when they were read. */
	group?: { key: string; ids: string[]; at: number };
}

type TriggerContext = IPollFunctions | IHookFunctions | IWebhookFunctions | ITriggerFunctions;

/**
 * The object ids a trigger watches, from its User IDs (names looked up once a day) or its group
 * (members read on the node's refresh schedule). With `persist` false (manual runs) nothing is
 * written to the state.
 */
export async function watchedUserIds(
	ctx: TriggerContext,
	client: GraphClient,
	state: WatchState,
	options: { persist: boolean; now: number },
): Promise<Set<string>> {
	const { persist, now } = options;
	let userIds: unknown;
	if (ctx.getNodeParameter('usersFrom', 'userIds') === 'group') {
		const group = String(ctx.getNodeParameter('group', '')).trim();
		if (!group) throw new NodeOperationError(ctx.getNode(), 'No group given');
		const refreshMs = Number(ctx.getNodeParameter('groupRefreshMinutes', 60)) * 60_000;
		const key = group.toLowerCase();
		let members =
			state.group?.key === key && now - state.group.at < refreshMs ? state.group.ids : undefined;
		if (!members) {
			// With Include User Details the members' names come in the same pages, for the items later.
			const options = ctx.getNodeParameter('options', {}) as { includeUserDetails?: boolean };
			members = await groupMemberIds(
				client,
				group,
				options.includeUserDetails === true ? (users) => rememberUsers(client, users) : undefined,
			);
			if (persist) state.group = { key, ids: members, at: now };
		}
		// A group with no members watches nobody; that is not an input error.
		if (members.length === 0) return new Set();
		userIds = members;
	} else {
		if (persist) delete state.group;
		userIds = ctx.getNodeParameter('userIds');
	}
	const parsed = parseUserIds(userIds);
	if (!parsed.ok) {
		throw new NodeOperationError(ctx.getNode(), `User IDs: ${parsed.message}`, {
			description:
				'Give Entra object IDs (GUIDs), user principal names or e-mail addresses, or a list of them.',
		});
	}

	// Object ids to watch: GUIDs as given, names through a cache in the static data.
	const names = persist ? (state.names ??= {}) : { ...state.names };
	const ids = new Set<string>();
	const lookups: UserRef[] = [];
	for (const ref of parsed.refs) {
		const cached = names[ref.key];
		if (ref.kind === 'guid') ids.add(ref.value);
		else if (cached && now - cached.at < NAME_LOOKUP_TTL_MS) ids.add(cached.id);
		else lookups.push(ref);
	}
	// A slice at a time, each kept as soon as it is answered: a list too long to look up within one
	// poll (100,000 names cost 100,000 of the app's requests, over half an hour of its budget) goes on
	// where it stopped at the next poll instead of starting over.
	for (const slice of chunk(lookups, NAMES_PER_SLICE)) {
		const resolve = await resolveUsers(client, slice);
		for (const ref of slice) {
			const user = resolve(ref);
			if ('error' in user) throw user.error;
			if ('id' in user) {
				names[ref.key] = { id: user.id, at: now };
				ids.add(user.id);
				continue;
			}
			delete names[ref.key];
			const problem = user.ambiguous
				? `"${ref.value}" is not one user: ${user.reason}`
				: `No user "${ref.value}" in this tenant`;
			if (!persist) throw new NodeOperationError(ctx.getNode(), problem);
			ctx.logger.warn(`Microsoft Graph Presence: ${problem}; not watched`);
		}
	}
	const watchedNames = new Set(
		parsed.refs.filter((ref) => ref.kind === 'upn').map((ref) => ref.key),
	);
	for (const key of Object.keys(names)) if (!watchedNames.has(key)) delete names[key];
	return ids;
}

/** Graph answers in any order: items follow the order the users were listed in (unknown ids last). */
export function inWatchedOrder<T extends { id: string }>(
	presences: readonly T[],
	watched: ReadonlySet<string>,
): T[] {
	const order = new Map([...watched].map((id, index) => [id, index]));
	const rank = (presence: T) => order.get(presence.id.toLowerCase()) ?? order.size;
	return [...presences].sort((x, y) => rank(x) - rank(y));
}
