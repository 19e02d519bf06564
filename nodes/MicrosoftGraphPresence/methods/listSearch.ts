import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { searchUsers as searchDirectory } from '../../shared/graph/directory';
import { GraphClient, type Authentication } from '../../shared/transport/graphClient';

/**
 * The user picker: people of the tenant by name or e-mail, 50 a page, through the same Graph client
 * (and budget) as everything else.
 */
export async function searchUsers(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const authentication =
		(this.getCurrentNodeParameter('authentication') as Authentication | undefined) ?? 'oAuth2';
	const client = await GraphClient.create(this, authentication);
	const found = await searchDirectory(client, filter ?? '', paginationToken);
	return {
		results: found.users.map((user) => {
			const name = user.displayName || user.id;
			const address = user.mail || user.userPrincipalName;
			return { name: address ? `${name} (${address})` : name, value: user.id };
		}),
		paginationToken: found.next,
	};
}
