import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import {
	checkDuration,
	checkPair,
	PREFERRED_PRESENCE_PAIRS,
} from '../../../shared/presence/writeRules';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { durationOptions, pairOptions } from './dropdownOptions';
import { badInput, executeWrite, targetProperty } from './write';

const show = { show: { operation: ['setPreferredPresence'] } };

export const description: INodeProperties[] = [
	targetProperty('setPreferredPresence'),
	{
		displayName: 'Preferred Presence',
		name: 'preferredPresence',
		type: 'options',
		options: pairOptions(PREFERRED_PRESENCE_PAIRS),
		default: 'Available/Available',
		description:
			"What the user chose to show, as in Teams' status picker (Graph accepts only these pairs here)",
		displayOptions: show,
	},
	{
		displayName: 'Expires After',
		name: 'preferredExpiration',
		type: 'options',
		options: [{ name: 'Until Cleared', value: 'untilCleared' }, ...durationOptions],
		default: 'untilCleared',
		displayOptions: show,
	},
];

/** Sets the user's preferred presence: `POST …/presence/setUserPreferredPresence`. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'setPreferredPresence',
		build(itemIndex) {
			const pair = checkPair(
				this.getNodeParameter('preferredPresence', itemIndex),
				PREFERRED_PRESENCE_PAIRS,
			);
			if (!pair.ok) throw badInput(this, itemIndex, pair.message);
			const set: IDataObject = { ...pair.value };
			const expiration = this.getNodeParameter('preferredExpiration', itemIndex, 'untilCleared');
			if (expiration !== 'untilCleared') {
				const duration = checkDuration(expiration);
				if (!duration.ok) throw badInput(this, itemIndex, duration.message);
				set.expirationDuration = duration.value;
			}
			return { action: 'setUserPreferredPresence', body: set, result: set };
		},
	});
}
