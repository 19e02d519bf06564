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

/**
 * Whether `link` is a next page of the listing `path` on the client's Graph host: the same URL with
 * Graph's `$skiptoken` added, nothing else. A link handed back by the browser (the user picker's
 * pagination token) is only followed when it is; otherwise anyone allowed to use a credential could
 * make the node read any collection with its token.
 */
export function isNextPageOf(client: GraphClient, link: string, path: string): boolean {
	let given: URL;
	let own: URL;
	try {
		given = new URL(client.url(link));
		own = new URL(client.url(path));
	} catch {
		return false;
	}
	if (given.origin !== own.origin || given.pathname !== own.pathname || given.hash !== '')
		return false;
	if (given.username !== '' || given.password !== '') return false;
	const names = [...new Set(given.searchParams.keys())];
	if (given.searchParams.getAll('$skiptoken').length !== 1) return false;
	return names.every((name) => {
		if (name === '$skiptoken') return true;
		const values = given.searchParams.getAll(name);
		const ours = own.searchParams.getAll(name);
		// Graph may leave an option of the first request out of its next link, but never adds one.
		return values.length === 1 && ours.length === 1 && ours[0] === values[0];
	});
}
