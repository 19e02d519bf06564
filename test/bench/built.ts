import { join } from 'node:path';

import type { ICredentialType, INodeType } from 'n8n-workflow';

/**
 * The package as n8n loads it (the built files), from `dir`: dist/ itself, or the snapshot of it bench.ts takes
 * at its start so that a concurrent `npm run build` (which first deletes dist/) cannot pull it away mid-run.
 * Everything comes from one directory, so the node and the bench client share one throttle module.
 */
export interface Built {
	MicrosoftGraphPresence: new () => INodeType;
	MicrosoftGraphPresenceAppApi: new () => ICredentialType;
	MicrosoftGraphPresenceOAuth2Api: new () => ICredentialType;
	GraphClient: (typeof import('../../nodes/shared/transport/graphClient'))['GraphClient'];
	getManyPresences: (typeof import('../../nodes/shared/graph/presence'))['getManyPresences'];
	indexById: (typeof import('../../nodes/shared/presence/presence'))['indexById'];
}

export const DIST = join(__dirname, '..', '..', 'dist');

export function loadBuilt(dir: string = process.env.BENCH_DIST ?? DIST): Built {
	/* eslint-disable @typescript-eslint/no-require-imports */
	const node = require(
		join(dir, 'nodes/MicrosoftGraphPresence/MicrosoftGraphPresence.node.js'),
	) as Pick<Built, 'MicrosoftGraphPresence'>;
	const app = require(join(dir, 'credentials/MicrosoftGraphPresenceAppApi.credentials.js')) as Pick<
		Built,
		'MicrosoftGraphPresenceAppApi'
	>;
	const oauth = require(
		join(dir, 'credentials/MicrosoftGraphPresenceOAuth2Api.credentials.js'),
	) as Pick<Built, 'MicrosoftGraphPresenceOAuth2Api'>;
	const client = require(join(dir, 'nodes/shared/transport/graphClient.js')) as Pick<
		Built,
		'GraphClient'
	>;
	const presence = require(join(dir, 'nodes/shared/presence/presence.js')) as Pick<
		Built,
		'indexById'
	>;
	const reads = require(join(dir, 'nodes/shared/graph/presence.js')) as Pick<
		Built,
		'getManyPresences'
	>;
	/* eslint-enable @typescript-eslint/no-require-imports */
	return {
		MicrosoftGraphPresence: node.MicrosoftGraphPresence,
		MicrosoftGraphPresenceAppApi: app.MicrosoftGraphPresenceAppApi,
		MicrosoftGraphPresenceOAuth2Api: oauth.MicrosoftGraphPresenceOAuth2Api,
		GraphClient: client.GraphClient,
		getManyPresences: reads.getManyPresences,
		indexById: presence.indexById,
	};
}
