import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { WORK_LOCATIONS } from '../../../shared/presence/writeRules';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { badInput, executeWrite } from './write';

const show = { show: { operation: ['setWorkLocation'] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Work Location',
		name: 'workLocationType',
		type: 'options',
		options: [
			{ name: 'Office', value: 'office' },
			{ name: 'Remote', value: 'remote' },
			{ name: 'Time Off', value: 'timeOff' },
			{ name: 'Unspecified', value: 'unspecified' },
		],
		default: 'office',
		description:
			'Where the signed-in user works today (Graph sets this only for the signed-in user: OAuth2 credential)',
		displayOptions: show,
	},
	{
		displayName: 'Place ID',
		name: 'placeId',
		type: 'string',
		default: '',
		description: 'Optional ID of the building or desk (a Places ID)',
		displayOptions: show,
	},
];

/** Sets the signed-in user's work location manually: `POST /me/presence/setManualLocation`. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'setWorkLocation',
		meOnly: true,
		build(itemIndex) {
			const workLocationType = this.getNodeParameter('workLocationType', itemIndex);
			if (typeof workLocationType !== 'string' || !WORK_LOCATIONS.includes(workLocationType)) {
				throw badInput(
					this,
					itemIndex,
					`"${String(workLocationType)}" is not a work location; use one of ${WORK_LOCATIONS.join(', ')}`,
				);
			}
			const body: IDataObject = { workLocationType };
			const placeId = this.getNodeParameter('placeId', itemIndex, '');
			if (placeId) body.placeId = String(placeId);
			return { action: 'setManualLocation', body, result: body };
		},
	});
}
