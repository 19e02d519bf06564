import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { GraphClient } from '../../../shared/transport/graphClient';
import { executeWrite } from './write';

export const description: INodeProperties[] = [];

/**
 * Clears the signed-in user's work location, manual and automatic: `POST
 * /me/presence/clearLocation`.
 */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'clearWorkLocation',
		meOnly: true,
		build: () => ({ action: 'clearLocation', result: { cleared: true } }),
	});
}
