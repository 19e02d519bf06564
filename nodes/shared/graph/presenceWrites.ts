import type { IDataObject } from 'n8n-workflow';

import { writeHint, type Hint } from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';
import { isEmptyOrObject } from '../transport/response';

/**
 * Writing presence: `POST /users/{id}/presence/{action}`, or `/me/presence/{action}` for the
 * signed-in user. Graph answers 200 or 204 without a body.
 */
export async function writePresence(
	client: GraphClient,
	/** An object id, or `me`. */
	user: string,
	/** Graph's action, e.g. `setPresence`. */
	action: string,
	body: IDataObject | undefined,
	hint?: Hint,
): Promise<void> {
	const base = user === 'me' ? '/me/presence' : `/users/${encodeURIComponent(user)}/presence`;
	await client.request(
		{ method: 'POST', path: `${base}/${action}`, body, hint: hint ?? writeHint },
		isEmptyOrObject,
	);
}
