import { join } from 'path';
import type { ICredentialType, INode, INodeType } from 'n8n-workflow';

import type { GraphEmulator } from '../emulator';
import { appCertificateData, appSecretData, delegatedData, type TestApp } from '../shared/graphApp';
import {
	HARNESS_ITEMS_TYPE,
	MANUAL_TRIGGER_TYPE,
	type HarnessCredential,
	type HarnessWorkflow,
} from '../harness';

/** The package as n8n loads it: the built files under dist/ (npm test builds first). */
const dist = join(__dirname, '..', '..', 'dist');
/* eslint-disable @typescript-eslint/no-require-imports */
const { MicrosoftGraphPresence } = require(
	join(dist, 'nodes/MicrosoftGraphPresence/MicrosoftGraphPresence.node.js'),
) as {
	MicrosoftGraphPresence: new () => INodeType;
};
const { MicrosoftGraphPresenceOAuth2Api } = require(
	join(dist, 'credentials/MicrosoftGraphPresenceOAuth2Api.credentials.js'),
) as {
	MicrosoftGraphPresenceOAuth2Api: new () => ICredentialType;
};
const { MicrosoftGraphPresenceAppApi } = require(
	join(dist, 'credentials/MicrosoftGraphPresenceAppApi.credentials.js'),
) as {
	MicrosoftGraphPresenceAppApi: new () => ICredentialType;
};
const { MicrosoftGraphPresenceTrigger } = require(
	join(dist, 'nodes/MicrosoftGraphPresenceTrigger/MicrosoftGraphPresenceTrigger.node.js'),
) as {
	MicrosoftGraphPresenceTrigger: new () => INodeType;
};
const { MicrosoftGraphPresenceInstantTrigger } = require(
	join(
		dist,
		'nodes/MicrosoftGraphPresenceInstantTrigger/MicrosoftGraphPresenceInstantTrigger.node.js',
	),
) as {
	MicrosoftGraphPresenceInstantTrigger: new () => INodeType;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const PRESENCE_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresence';
export const nodeTypes = { [PRESENCE_TYPE]: new MicrosoftGraphPresence() };
export const TRIGGER_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresenceTrigger';
export const triggerNodeTypes = { [TRIGGER_TYPE]: new MicrosoftGraphPresenceTrigger() };
export const INSTANT_TYPE = 'n8n-nodes-msgraph-presence.microsoftGraphPresenceInstantTrigger';
export const instantNodeTypes = { [INSTANT_TYPE]: new MicrosoftGraphPresenceInstantTrigger() };
export const credentialTypes = [
	new MicrosoftGraphPresenceOAuth2Api(),
	new MicrosoftGraphPresenceAppApi(),
];

export { TENANT, registerApp, secretsOf, findSecrets, type TestApp } from '../shared/graphApp';

export function appSecretCredential(emu: GraphEmulator, app: TestApp): HarnessCredential {
	return {
		type: 'microsoftGraphPresenceAppApi',
		name: 'Graph app (secret)',
		data: appSecretData(emu, app),
	};
}

export function appCertificateCredential(
	emu: GraphEmulator,
	app: TestApp,
	thumbprint: 'sha256' | 'sha1' = 'sha256',
): HarnessCredential {
	return {
		type: 'microsoftGraphPresenceAppApi',
		name: 'Graph app (certificate)',
		data: appCertificateData(emu, app, thumbprint),
	};
}

export async function delegatedCredential(
	emu: GraphEmulator,
	app: TestApp,
): Promise<HarnessCredential> {
	return {
		type: 'microsoftGraphPresenceOAuth2Api',
		name: 'Graph (delegated)',
		data: await delegatedData(emu, app),
	};
}

export interface PresenceWorkflowOptions {
	/** One input item per entry. */
	items: Array<Record<string, unknown>>;
	parameters: Record<string, unknown>;
	authentication: 'oAuth2' | 'application';
	credentialId: string;
	continueOnFail?: boolean;
}

/** Manual trigger → items → Microsoft Graph Presence, as a user would wire it. */
export function presenceWorkflow(options: PresenceWorkflowOptions): HarnessWorkflow {
	const credentialType =
		options.authentication === 'application'
			? 'microsoftGraphPresenceAppApi'
			: 'microsoftGraphPresenceOAuth2Api';
	const nodes: INode[] = [
		{
			id: 'n1',
			name: 'Start',
			type: MANUAL_TRIGGER_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: 'n2',
			name: 'Items',
			type: HARNESS_ITEMS_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters: { items: JSON.stringify(options.items) },
		},
		{
			id: 'n3',
			name: 'Presence',
			type: PRESENCE_TYPE,
			typeVersion: 1,
			position: [400, 0],
			parameters: { authentication: options.authentication, ...options.parameters },
			credentials: { [credentialType]: { id: options.credentialId, name: 'Graph' } },
			...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		},
	];
	return {
		nodes,
		connections: {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: 'Presence', type: 'main', index: 0 }]] },
		},
	};
}
