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
import { pairOptions, preferredDurationOptions } from './dropdownOptions';
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
		options: [
			{
				// The value of version 0.1 ("Until Cleared") is kept: it always sent no expirationDuration.
				name: "Graph's Default (1 Day for Busy and Do Not Disturb, 7 Days Otherwise)",
				value: 'untilCleared',
				description:
					'No expirationDuration is sent; Graph then expires Busy and Do Not Disturb after 1 day, the others after 7 days',
			},
			...preferredDurationOptions,
		],
		default: 'untilCleared',
		description:
			'When the preferred presence ends unless set again or cleared; an expression may give any ISO 8601 duration of at least PT5M (e.g. PT36H). Graph shows a preferred presence only while the user has a presence session (a Teams client signed in, or an app session from Set Presence); otherwise the user shows as Offline.',
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
				const duration = checkDuration(expiration, true);
				if (!duration.ok) throw badInput(this, itemIndex, duration.message);
				set.expirationDuration = duration.value;
			}
			return { action: 'setUserPreferredPresence', body: set, result: set };
		},
	});
}
