import { NodeApiError, type IDataObject } from 'n8n-workflow';

import { isRecord } from '../guards';
import { chunk } from '../presence/batching';
import { parseRetryAfter } from '../throttle/retryAfter';
import { decideRetry, type AttemptOutcome } from '../throttle/retryPolicy';
import {
	asNodeError,
	GraphRequestError,
	readGraphError,
	throttleBudgetError,
	toNodeApiError,
	type Hint,
} from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';
import { headerValue } from '../transport/response';

/**
 * JSON batching (concepts/json-batching.md): up to 20 requests in one `POST /$batch`. Graph evaluates
 * every sub-request against its limits and may answer any of them 429 with its own Retry-After inside
 * the batch answer; Microsoft's advice is to send the throttled ones again in a new batch after the
 * longest Retry-After (concepts/throttling.md, "Throttling and batching"). So each sub-request takes
 * a turn in the shared budget, its 429s slow the budget down as any 429 does, and it is retried as
 * the client's retry policy says, on its own, not the batch as one: its faults against Max Retries,
 * its throttling against the execution's Max Throttle Wait (the client's ThrottleClock).
 */

/** JSON batching takes at most 20 requests (json-batching). */
export const MAX_BATCH_REQUESTS = 20;

export interface SubRequest {
	method: 'GET' | 'POST';
	/** Relative to the version, e.g. `/users?$filter=…`. */
	url: string;
	body?: IDataObject;
	headers?: Record<string, string>;
}

/** Graph's final answer to one sub-request, or why there is none. */
export type SubResult = { status: number; body: unknown } | { error: NodeApiError };

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
 * Sends every request, 20 to a `$batch`, the batches at once under the client's throttle and
 * concurrency. Results come back in the order of `requests`.
 */
export async function sendBatched(
	client: GraphClient,
	requests: readonly SubRequest[],
	hint: Hint,
): Promise<SubResult[]> {
	const results: Array<SubResult | undefined> = new Array(requests.length);
	let pending = requests.map((_, index) => index);
	// Per sub-request, as the client counts per request: faults against Max Retries, throttling against
	// the execution's throttle clock, held from a throttled answer until the sub-request's next other
	// answer (or its end, however it ends).
	const states = new Map<number, { faults: number; throttled: number }>();
	const held = new Set<number>();
	const release = (index: number): void => {
		if (held.delete(index)) client.throttleClock.release(Date.now());
	};
	/** The sub-request has its final result. */
	const settle = (index: number, result: SubResult): void => {
		results[index] = result;
		release(index);
	};
	try {
		while (pending.length > 0) {
			const again: number[] = [];
			let waitMs = 0;
			/** A sub-request that did not succeed: tried again as the policy says, or its last answer kept. */
			const retryOrKeep = (index: number, attempt: AttemptOutcome, last: () => SubResult): void => {
				const state = states.get(index) ?? { faults: 0, throttled: 0 };
				states.set(index, state);
				const now = Date.now();
				const decision = decideRetry(
					attempt,
					{ ...state, throttleHeldMs: client.throttleClock.heldMs(now) },
					client.retry,
					now,
					Math.random(),
				);
				if (!decision.retry) {
					if (decision.reason === 'throttleBudget' && attempt.kind === 'status') {
						const kept = last();
						settle(index, {
							error: throttleBudgetError(
								client.node,
								attempt.status,
								'body' in kept ? readGraphError(kept.body) : undefined,
								client.throttleClock.heldMs(now),
								client.retry.maxThrottleWaitMs / 60_000,
								decision.delayMs ?? 0,
							),
						});
					} else {
						settle(index, last());
					}
					return;
				}
				if (decision.throttled) {
					state.throttled++;
					if (!held.has(index)) client.throttleClock.hold(now);
					held.add(index);
				} else {
					state.faults++;
					// Graph answered something other than throttling: the sub-request no longer stands refused.
					release(index);
				}
				again.push(index);
				waitMs = Math.max(waitMs, decision.delayMs);
			};
			await Promise.all(
				chunk(pending, MAX_BATCH_REQUESTS).map(async (group) => {
					const body = {
						requests: group.map((index, position) => ({
							id: String(position),
							...requests[index],
							...(requests[index].body === undefined
								? {}
								: {
										headers: { 'Content-Type': 'application/json', ...requests[index].headers },
									}),
						})),
					};
					let answer: { body: BatchAnswer; startedAt: number };
					try {
						answer = await client.requestTimed(
							{ method: 'POST', path: '/$batch', body, hint, turns: group.length },
							isBatchAnswer,
						);
					} catch (error) {
						client.throwIfCancelled();
						if (!(error instanceof NodeApiError)) throw asNodeError(client.node, error);
						for (const index of group) settle(index, { error });
						return;
					}
					const answered = new Set<number>();
					let throttled = 0;
					let longestRetryAfter: number | undefined;
					for (const response of answer.body.responses) {
						const index = group[Number(response.id)];
						if (index === undefined || answered.has(index)) continue;
						answered.add(index);
						const { status, body: subBody } = response;
						if (status >= 200 && status < 300) {
							settle(index, { status, body: subBody });
							continue;
						}
						const retryAfter = headerValue(response.headers, 'retry-after');
						if (status === 429) {
							throttled++;
							const ms = parseRetryAfter(retryAfter, Date.now());
							if (ms !== undefined) longestRetryAfter = Math.max(longestRetryAfter ?? 0, ms);
						}
						retryOrKeep(index, { kind: 'status', status, retryAfter }, () => ({
							status,
							body: subBody,
						}));
					}
					client.subRequestsThrottled(answer.startedAt, throttled, longestRetryAfter);
					// A sub-request the answer left out is asked again, like a dropped connection.
					for (const index of group) {
						if (answered.has(index)) continue;
						retryOrKeep(index, { kind: 'transport' }, () => ({
							error: toNodeApiError(
								client.node,
								new GraphRequestError(500, undefined, "Graph's batch answer left this request out"),
							),
						}));
					}
				}),
			);
			client.stats.retries += again.length;
			pending = again;
			if (pending.length > 0) await client.wait(waitMs);
		}
	} finally {
		// Cancelled or failed while sub-requests stood throttled: off the clock.
		for (const index of [...held]) release(index);
	}
	return results.map(
		(result) =>
			result ?? {
				error: toNodeApiError(client.node, new GraphRequestError(500, undefined, 'No answer')),
			},
	);
}

/** The error n8n shows for a sub-request Graph refused, with the hint of what it was for. */
export function subRequestError(
	client: GraphClient,
	result: { status: number; body: unknown },
	hint: Hint,
): NodeApiError {
	const graphError = readGraphError(result.body);
	return toNodeApiError(
		client.node,
		new GraphRequestError(result.status, graphError, hint(result.status, graphError)),
	);
}
