import { NodeOperationError } from 'n8n-workflow';

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

/**
 * Pages one listing may take: 2,000 pages of 999 are two million entries, more than any directory
 * listing this node reads (a group's members for the triggers and Get Many). A listing that goes on
 * beyond it is a loop the cycle check cannot see (a next link that changes on every page).
 */
export const MAX_PAGES = 2000;

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

export interface PagesOptions {
	headers?: Record<string, string>;
	/** Default MAX_PAGES. */
	maxPages?: number;
}

/**
 * Every page of a collection, following `@odata.nextLink` (only on the credential's own Graph
 * host), at most `maxPages` of them; a next link back to a page already read is refused, since
 * following it would never end.
 */
export async function* pages(
	client: GraphClient,
	path: string,
	options: PagesOptions = {},
): AsyncGenerator<unknown[]> {
	const maxPages = options.maxPages ?? MAX_PAGES;
	const read = new Set<string>();
	for (let next: string | undefined = path; next; ) {
		const url = canonical(client.url(next));
		if (read.has(url)) {
			throw new NodeOperationError(
				client.node,
				`Graph sent a next link back to page ${[...read].indexOf(url) + 1} of ${path.split('?')[0]}, already read; not followed`,
				{
					description:
						'The listing would never end. Try again later; if it persists, it is a fault of Graph or of the gateway in front of it.',
				},
			);
		}
		if (read.size >= maxPages) {
			throw new NodeOperationError(
				client.node,
				`${path.split('?')[0]} has more than ${maxPages} pages; not read further`,
				{
					description: `A listing this long is a loop of next links, or far larger than this node reads (${maxPages} pages).`,
				},
			);
		}
		read.add(url);
		const answer: { value: unknown[]; next?: string } = await page(client, next, options.headers);
		yield answer.value;
		next = answer.next;
	}
}

/**
 * A URL in one spelling, to tell pages apart: Graph may spell a next link's options differently from
 * the request (`%24top` for `$top`, another order).
 */
function canonical(url: string): string {
	try {
		const parsed = new URL(url);
		parsed.searchParams.sort();
		return `${parsed.origin}${parsed.pathname}?${parsed.searchParams.toString()}`;
	} catch {
		return url;
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
