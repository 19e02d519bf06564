import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { toGraphDateTime } from '../../../shared/presence/writeRules';
import type { GraphClient } from '../../../shared/transport/graphClient';
import { badInput, executeWrite, targetProperty } from './write';

const show = { show: { operation: ['setStatusMessage'] } };

export const description: INodeProperties[] = [
	targetProperty('setStatusMessage'),
	{
		displayName: 'Message',
		name: 'statusMessage',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		required: true,
		description: 'The status message shown in Teams',
		displayOptions: show,
	},
	{
		displayName: 'Expires At',
		name: 'expiresAt',
		type: 'dateTime',
		default: '',
		description: 'When the message disappears; empty keeps it until changed',
		displayOptions: show,
	},
	{
		displayName: 'Time Zone',
		name: 'timeZone',
		type: 'string',
		default: '',
		placeholder: 'e.g. Europe/Berlin',
		description:
			"The time zone of Expires At when it has no offset; empty uses the workflow's time zone. A time with an offset or Z is sent as UTC.",
		displayOptions: show,
	},
];

/** Sets the status message: `POST …/presence/setStatusMessage`. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'setStatusMessage',
		build(itemIndex) {
			const content = this.getNodeParameter('statusMessage', itemIndex);
			if (typeof content !== 'string' || content.trim() === '') {
				throw badInput(
					this,
					itemIndex,
					'Message is empty; use Clear Status Message to remove a message',
				);
			}
			const statusMessage: IDataObject = { message: { content, contentType: 'text' } };
			const expiresAt = this.getNodeParameter('expiresAt', itemIndex, '');
			if (expiresAt) {
				const zone = String(this.getNodeParameter('timeZone', itemIndex, '') || this.getTimezone());
				const expiry = toGraphDateTime(expiresAt, zone);
				if (!expiry.ok) throw badInput(this, itemIndex, `Expires At: ${expiry.message}`);
				statusMessage.expiryDateTime = expiry.value;
			}
			return { action: 'setStatusMessage', body: { statusMessage }, result: { statusMessage } };
		},
	});
}
