import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { GraphClient } from '../../../shared/transport/graphClient';
import { executeWrite, targetProperty } from './write';

export const description: INodeProperties[] = [targetProperty('clearStatusMessage')];

/** Graph clears a status message when it is set to an empty one. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'clearStatusMessage',
		build: () => ({
			action: 'setStatusMessage',
			body: { statusMessage: { message: { content: '', contentType: 'text' } } },
			result: { cleared: true },
		}),
	});
}
