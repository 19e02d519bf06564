import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { isRecord } from '../../shared/presence/presence';
import { GraphClient, type Authentication } from '../../shared/transport/graphClient';

/**
 * The user picker: people of the tenant by name or e-mail, 50 a page, through the same Graph client (and budget)
 * as everything else. `$search` needs Graph's `ConsistencyLevel: eventual` header.
 */
export async function searchUsers(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const authentication =
		(this.getCurrentNodeParameter('authentication') as Authentication | undefined) ?? 'oAuth2';
	const client = await GraphClient.create(this, authentication);
	const select = '$select=id,displayName,userPrincipalName,mail&$top=50';
	const term = (filter ?? '').replace(/["\\]/g, '').trim();
	const path =
		paginationToken ??
		(term
			? `/users?$search=${encodeURIComponent(`"displayName:${term}" OR "mail:${term}" OR "userPrincipalName:${term}"`)}&$orderby=displayName&$count=true&${select}`
			: `/users?$orderby=displayName&${select}`);
	const page = await client.page(path, { ConsistencyLevel: 'eventual' });
	return {
		results: page.value.filter(isRecord).flatMap((user) => {
			if (typeof user.id !== 'string') return [];
			const name =
				typeof user.displayName === 'string' && user.displayName ? user.displayName : user.id;
			const address =
				typeof user.mail === 'string' && user.mail ? user.mail : user.userPrincipalName;
			return [
				{ name: typeof address === 'string' ? `${name} (${address})` : name, value: user.id },
			];
		}),
		paginationToken: page.next,
	};
}
