import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { isRecord } from '../guards';
import { chunk } from '../presence/batching';
import { decideRetry, type AttemptOutcome } from '../throttle/retryPolicy';
import {
	asNodeError,
	GraphRequestError,
	readGraphError,
	throttleBudgetError,
	toNodeApiError,
	userLookupHint,
} from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';
import { headerValue } from '../transport/response';
import { isGuid } from '../users/ids';
import { isNextPageOf, page, pages } from './paging';

/**
 * Entra's directory as the node needs it: names to object ids, a group's members, the user picker's
 * pages.
 */

/** What Graph said about one name: its object id, no such user, or an error to report for it. */
export type LookupResult = { id: string } | { notFound: true } | { error: NodeApiError };

/** JSON batching takes at most 20 requests (json-batching). */
const MAX_BATCH_REQUESTS = 20;

interface BatchAnswer {
	responses: Array<{ id: string; status: number; headers?: unknown; body?: unknown }>;
}

function isBatchAnswer(value: unknown): value is BatchAnswer {
	return (
		isRecord(value) &&
		Array.isArray(value.responses) &&
		value.responses.every(
			(entry) =>
				isRecord(entry) && typeof entry.id === 'string' && typeof entry.status === 'number',
		)
	);
}

/**
 * Looks user principal names up (`GET /users/{upn}`), 20 at a time through JSON batching.
 * Sub-requests that Graph throttles, or that the answer leaves out, are sent again in a later
 * batch, by the client's own retry policy. Keys of the answer are the names in lower case.
 */
export async function lookUpUsers(
	client: GraphClient,
	names: readonly string[],
): Promise<Map<string, LookupResult>> {
	const resolved = new Map<string, LookupResult>();
	const original = new Map(names.map((name) => [name.toLowerCase(), name]));
	let pending = [...original.keys()];
	// Per name, as the client counts per request: faults against Max Retries, throttling against the
	// execution's throttle clock, held from a throttled answer until the name's next other answer.
	const states = new Map<string, { faults: number; throttled: number }>();
	const held = new Set<string>();
	const release = (key: string): void => {
		if (held.delete(key)) client.throttleClock.release(Date.now());
	};
	try {
		for (; pending.length > 0; ) {
			const again = new Set<string>();
			let waitMs = 0;
			/** A sub-request that did not succeed: retried as the policy says, or its error kept. */
			const retryOrFail = (
				key: string,
				attempt: AttemptOutcome,
				error: (budget?: { askedMs: number }) => NodeApiError,
			): void => {
				const state = states.get(key) ?? { faults: 0, throttled: 0 };
				states.set(key, state);
				const now = Date.now();
				const decision = decideRetry(
					attempt,
					{ ...state, throttleHeldMs: client.throttleClock.heldMs(now) },
					client.retry,
					now,
					Math.random(),
				);
				if (!decision.retry) {
					resolved.set(
						key,
						decision.reason === 'throttleBudget'
							? { error: error({ askedMs: decision.delayMs ?? 0 }) }
							: { error: error() },
					);
					release(key);
					return;
				}
				if (decision.throttled) {
					state.throttled++;
					if (!held.has(key)) client.throttleClock.hold(now);
					held.add(key);
				} else {
					state.faults++;
					release(key);
				}
				again.add(key);
				waitMs = Math.max(waitMs, decision.delayMs);
			};
			await Promise.all(
				chunk(pending, MAX_BATCH_REQUESTS).map(async (group) => {
					const requests = group.map((key, index) => ({
						id: String(index),
						method: 'GET',
						url: `/users/${encodeURIComponent(original.get(key) ?? key)}?$select=id`,
					}));
					let answer: BatchAnswer;
					try {
						answer = await client.request(
							{ method: 'POST', path: '/$batch', body: { requests } },
							isBatchAnswer,
						);
					} catch (error) {
						client.throwIfCancelled();
						if (!(error instanceof NodeApiError)) throw asNodeError(client.node, error);
						for (const key of group) {
							resolved.set(key, { error });
							release(key);
						}
						return;
					}
					for (const response of answer.responses) {
						const key = group[Number(response.id)];
						if (key === undefined) continue;
						const { status, body } = response;
						if (
							status >= 200 &&
							status < 300 &&
							isRecord(body) &&
							typeof body.id === 'string' &&
							isGuid(body.id)
						) {
							resolved.set(key, { id: body.id.toLowerCase() });
							release(key);
						} else if (status === 404) {
							resolved.set(key, { notFound: true });
							release(key);
						} else {
							const retryAfter = headerValue(response.headers, 'retry-after');
							retryOrFail(key, { kind: 'status', status, retryAfter }, (budget) =>
								budget
									? throttleBudgetError(
											client.node,
											status,
											readGraphError(body),
											client.throttleClock.heldMs(Date.now()),
											client.retry.maxThrottleWaitMs / 60_000,
											budget.askedMs,
										)
									: toNodeApiError(
											client.node,
											new GraphRequestError(
												status,
												readGraphError(body),
												userLookupHint(status, undefined),
											),
										),
							);
						}
					}
					// A sub-request the answer left out is asked again, like a dropped connection.
					for (const key of group) {
						if (resolved.has(key) || again.has(key)) continue;
						retryOrFail(key, { kind: 'transport' }, () =>
							toNodeApiError(
								client.node,
								new GraphRequestError(500, undefined, "Graph's batch answer left this user out"),
							),
						);
					}
				}),
			);
			pending = [...again];
			if (pending.length > 0) await client.wait(waitMs);
		}
	} finally {
		for (const key of [...held]) release(key);
	}
	return resolved;
}

/**
 * Object ids of a group's members, nested groups included, users only. `group` is an object id or a
 * display name.
 */
export async function groupMemberIds(client: GraphClient, group: string): Promise<string[]> {
	let groupId = group.trim();
	if (!isGuid(groupId)) {
		const filter = encodeURIComponent(`displayName eq '${groupId.replace(/'/g, "''")}'`);
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
	const path = `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=id&$top=999`;
	for await (const entries of pages(client, path)) {
		for (const member of entries) {
			if (isRecord(member) && typeof member.id === 'string') members.add(member.id.toLowerCase());
		}
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
	const select = '$select=id,displayName,userPrincipalName,mail&$top=50';
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
