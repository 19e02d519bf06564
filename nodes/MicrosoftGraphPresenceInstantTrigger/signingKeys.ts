import type { KeyObject } from 'crypto';

import { readSigningKeys } from '../shared/notifications/validationTokens';
import type { InstantContext } from './settings';

/**
 * The identity platform's published signing keys, which validation tokens are checked against:
 * `{login host}/common/discovery/v2.0/keys` of the credential's cloud (for the custom cloud, its own
 * login URL). Cached per process; Microsoft rotates them daily, so they are fetched again after an
 * hour, or when a token names a key not in the cache (at most every ten seconds, so forged tokens
 * cannot make this node fetch at will).
 */

const FRESH_MS = 60 * 60_000;
const REFETCH_AFTER_MS = 10_000;

interface Cached {
	keys: Map<string, KeyObject>;
	fetchedAt: number;
	pending?: Promise<Map<string, KeyObject>>;
}

const cache = new Map<string, Cached>();

export function signingKeysUrl(loginBaseUrl: string): string {
	return `${loginBaseUrl}/common/discovery/v2.0/keys`;
}

export async function signingKeys(
	ctx: InstantContext,
	loginBaseUrl: string,
	options: { refresh?: boolean } = {},
): Promise<Map<string, KeyObject>> {
	const url = signingKeysUrl(loginBaseUrl);
	const now = Date.now();
	const known = cache.get(url);
	const wanted = !known || now - known.fetchedAt > FRESH_MS || options.refresh === true;
	if (known && (!wanted || now - known.fetchedAt < REFETCH_AFTER_MS)) return known.keys;
	if (known?.pending) return await known.pending;
	const pending = ctx.helpers
		.httpRequest({ method: 'GET', url, json: true, timeout: 10_000 })
		.then((body: unknown) => readSigningKeys(body));
	const entry: Cached = known ?? { keys: new Map(), fetchedAt: 0 };
	entry.pending = pending;
	cache.set(url, entry);
	try {
		entry.keys = await pending;
		entry.fetchedAt = Date.now();
		return entry.keys;
	} finally {
		entry.pending = undefined;
	}
}
