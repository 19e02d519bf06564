import { LoadOptionsContext } from 'n8n-core';
import type { ILoadOptionsFunctions, INode } from 'n8n-workflow';

import type { GraphEmulator } from '../emulator';
import { buildEnvironment, type HarnessCredential } from '../harness';
import { credentialTypes, nodeTypes, PRESENCE_TYPE } from './support';

/** n8n-core's own load-options context (what the editor's list search runs in) for the Presence node. */
export async function helpersFor(
	_emu: GraphEmulator,
	credential: HarnessCredential,
	authentication: 'application' | 'oAuth2',
): Promise<ILoadOptionsFunctions> {
	const node: INode = {
		id: 'presence',
		name: 'Presence',
		type: PRESENCE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			authentication,
			operation: 'get',
			userId: { __rl: true, mode: 'list', value: '' },
		},
		credentials: { [credential.type]: { id: 'cred', name: 'Graph' } },
	};
	const { workflow, additionalData } = await buildEnvironment({
		workflow: { nodes: [node], connections: {} },
		nodeTypes,
		credentialTypes,
		credentials: { cred: credential },
	});
	// n8n hands the editor's current parameters to load-options methods this way.
	additionalData.currentNodeParameters = node.parameters;
	return new LoadOptionsContext(workflow, node, additionalData, 'parameters.userId');
}
