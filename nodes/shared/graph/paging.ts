import { isRecord } from '../guards';
import { directoryHint } from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';

/** Graph's collections: `{ value: [...], '@odata.nextLink'?: '…' }`, read a page at a time. */

interface Collection {
	value: unknown[];
	'@odata.nextLink'?: string;
}

function isCollection(value: unknown): value is Collection {
	return (
		isRecord(value) &&
		Array.isArray(value.value) &&
		(value['@odata.nextLink'] === undefined || typeof value['@odata.nextLink'] === 'string')
	);
}

/** One page of a collection, with its next link. */
export async function page(
	client: GraphClient,
	path: string,
	headers?: Record<string, string>,
): Promise<{ value: unknown[]; next?: string }> {
	const answer = await client.request(
		{ method: 'GET', path, headers, hint: directoryHint },
		isCollection,
	);
	return { value: answer.value, next: answer['@odata.nextLink'] };
}

/**
 * Every page of a collection, following `@odata.nextLink` (only on the credential's own Graph
 * host).
 */
export async function* pages(
	client: GraphClient,
	path: string,
	headers?: Record<string, string>,
): AsyncGenerator<unknown[]> {
	for (let next: string | undefined = path; next; ) {
		const answer: { value: unknown[]; next?: string } = await page(client, next, headers);
		yield answer.value;
		next = answer.next;
	}
}
