import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { GraphClient } from '../../../shared/transport/graphClient';
import { executeWrite, targetProperty } from './write';

export const description: INodeProperties[] = [
	targetProperty('clearPresence'),
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '',
		placeholder: "The credential's client ID",
		description:
			"The presence session to end; empty uses the app's client ID, as Set Presence does",
		displayOptions: { show: { operation: ['clearPresence'] } },
	},
];

/** Ends an application presence session: `POST …/presence/clearPresence`. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'clearPresence',
		build(itemIndex) {
			const sessionId = String(
				this.getNodeParameter('sessionId', itemIndex, '') || client.clientId,
			);
			return {
				action: 'clearPresence',
				body: { sessionId },
				result: { sessionId, cleared: true },
				hint: (status) =>
					status === 404
						? `Graph has no presence session "${sessionId}" for this user: Clear Presence ends only a session that Set Presence started with the same Session ID (it may also have expired already).`
						: undefined,
			};
		},
	});
}
