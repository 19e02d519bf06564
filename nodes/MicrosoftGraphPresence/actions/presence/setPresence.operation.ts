import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { checkDuration, checkPair, SET_PRESENCE_PAIRS } from '../../../shared/presence/writeRules';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { durationOptions, pairOptions } from './dropdownOptions';
import { badInput, executeWrite, targetProperty } from './write';

const show = { show: { operation: ['setPresence'] } };

export const description: INodeProperties[] = [
	targetProperty('setPresence'),
	{
		displayName: 'Presence',
		name: 'presence',
		type: 'options',
		options: pairOptions(SET_PRESENCE_PAIRS),
		default: 'Available/Available',
		description:
			"Availability and activity of the app's presence session (Graph accepts only these pairs here)",
		displayOptions: show,
	},
	{
		displayName: 'Expires After',
		name: 'expirationDuration',
		type: 'options',
		options: durationOptions,
		default: 'PT5M',
		description: 'When the session ends unless set again (Graph: 5 minutes to 4 hours)',
		displayOptions: show,
	},
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '',
		placeholder: "The credential's client ID",
		description:
			'Leave empty in almost every workflow: Graph wants the app\'s client ID here ("Provide the ID of the application as sessionId"), which empty sends. Another ID is another session, which Clear Presence must then name too.',
		displayOptions: show,
	},
];

/** Sets an application presence session: `POST …/presence/setPresence`. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'setPresence',
		build(itemIndex) {
			const pair = checkPair(this.getNodeParameter('presence', itemIndex), SET_PRESENCE_PAIRS);
			if (!pair.ok) throw badInput(this, itemIndex, pair.message);
			const duration = checkDuration(
				this.getNodeParameter('expirationDuration', itemIndex, 'PT5M'),
			);
			if (!duration.ok) throw badInput(this, itemIndex, duration.message);
			const sessionId = String(
				this.getNodeParameter('sessionId', itemIndex, '') || client.clientId,
			);
			const set = { sessionId, ...pair.value, expirationDuration: duration.value };
			return { action: 'setPresence', body: set, result: set };
		},
	});
}
