import type { IDataObject } from 'n8n-workflow';

import { isRecord } from '../guards';
import { asNodeError, isNotFound, type Hint } from '../transport/errors';
import type { GraphClient } from '../transport/graphClient';
import { isEmptyOrObject } from '../transport/response';
import { pages } from './paging';

/** Graph's change-notification subscriptions: list, create, renew, delete. */

export interface Subscription {
	id: string;
	resource: string;
	expirationDateTime?: string;
	notificationUrl?: string;
}

function isSubscription(value: unknown): value is Subscription {
	return isRecord(value) && typeof value.id === 'string' && typeof value.resource === 'string';
}

/**
 * `GET /subscriptions`, every page: with a delegated token, this app's subscriptions for the
 * signed-in user.
 */
export async function listSubscriptions(client: GraphClient): Promise<Subscription[]> {
	const all: Subscription[] = [];
	for await (const entries of pages(client, '/subscriptions'))
		all.push(...entries.filter(isSubscription));
	return all;
}

export async function createSubscription(
	client: GraphClient,
	body: IDataObject,
	hint?: Hint,
): Promise<Subscription> {
	return await client.request(
		{ method: 'POST', path: '/subscriptions', body, hint },
		isSubscription,
	);
}

/** `PATCH /subscriptions/{id}` to a new expiry; false when Graph no longer knows it. */
export async function renewSubscription(
	client: GraphClient,
	id: string,
	expirationDateTime: string,
): Promise<boolean> {
	try {
		const path = `/subscriptions/${encodeURIComponent(id)}`;
		await client.request({ method: 'PATCH', path, body: { expirationDateTime } }, isRecord);
		return true;
	} catch (error) {
		if (isNotFound(error)) return false;
		throw asNodeError(client.node, error);
	}
}

/** `DELETE /subscriptions/{id}`; already gone is fine. */
export async function deleteSubscription(client: GraphClient, id: string): Promise<void> {
	try {
		await client.request(
			{ method: 'DELETE', path: `/subscriptions/${encodeURIComponent(id)}` },
			isEmptyOrObject,
		);
	} catch (error) {
		if (!isNotFound(error)) throw asNodeError(client.node, error);
	}
}
