import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { GraphClient } from '../../../shared/transport/graphClient';
import { executeWrite, targetProperty } from './write';

export const description: INodeProperties[] = [targetProperty('clearPreferredPresence')];

/** Clears the user's preferred presence: `POST …/presence/clearUserPreferredPresence`. */
export async function execute(
	this: IExecuteFunctions,
	client: GraphClient,
): Promise<INodeExecutionData[]> {
	return await executeWrite.call(this, client, {
		operation: 'clearPreferredPresence',
		build: () => ({ action: 'clearUserPreferredPresence', result: { cleared: true } }),
	});
}
