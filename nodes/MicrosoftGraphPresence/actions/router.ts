import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { GraphClient, type Authentication } from '../../shared/transport/graphClient';
import { readOptions } from '../descriptions/common';
import * as clearPreferredPresence from './presence/clearPreferredPresence.operation';
import * as clearPresence from './presence/clearPresence.operation';
import * as clearStatusMessage from './presence/clearStatusMessage.operation';
import * as clearWorkLocation from './presence/clearWorkLocation.operation';
import * as get from './presence/get.operation';
import * as getMany from './presence/getMany.operation';
import * as getMe from './presence/getMe.operation';
import * as setPreferredPresence from './presence/setPreferredPresence.operation';
import * as setPresence from './presence/setPresence.operation';
import * as setStatusMessage from './presence/setStatusMessage.operation';
import * as setWorkLocation from './presence/setWorkLocation.operation';

type Operation = {
	description: INodeProperties[];
	execute: (
		this: IExecuteFunctions,
		client: GraphClient,
		simplify: boolean,
	) => Promise<INodeExecutionData[]>;
};

/**
 * Every operation of the node: adding one means its own file, a line here and one in
 * `operationProperty`.
 */
export const operations: Record<string, Operation> = {
	getMe,
	get,
	getMany,
	setPresence,
	clearPresence,
	setPreferredPresence,
	clearPreferredPresence,
	setStatusMessage,
	clearStatusMessage,
	setWorkLocation,
	clearWorkLocation,
};

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Clear Preferred Presence',
			value: 'clearPreferredPresence',
			description: 'Remove the status the user chose',
			action: 'Clear preferred presence',
		},
		{
			name: 'Clear Presence',
			value: 'clearPresence',
			description: 'End the app presence session that Set Presence started',
			action: 'Clear presence',
		},
		{
			name: 'Clear Status Message',
			value: 'clearStatusMessage',
			description: 'Remove the status message',
			action: 'Clear status message',
		},
		{
			name: 'Clear Work Location',
			value: 'clearWorkLocation',
			description: 'Clear the work location of the signed-in user; OAuth2 only',
			action: 'Clear work location',
		},
		{
			name: 'Get Many',
			value: 'getMany',
			description:
				'Get the presence of many users at once: IDs from all items are de-duplicated and read 650 per request, one item per user',
			action: 'Get the presence of many users',
		},
		{
			name: 'Get Me',
			value: 'getMe',
			description: 'Get the presence of the signed-in user (delegated credential only)',
			action: 'Get my presence',
		},
		{
			name: 'Get User',
			value: 'get',
			description:
				'Get the presence of one user per input item, by object ID, user principal name or e-mail',
			action: 'Get the presence of a user',
		},
		{
			name: 'Set Preferred Presence',
			value: 'setPreferredPresence',
			description: 'Set the status the user chose, as in the Teams status picker',
			action: 'Set preferred presence',
		},
		{
			name: 'Set Presence',
			value: 'setPresence',
			description:
				'Set an app presence session (e.g. Busy — In a Call while a support call runs); expires after 5 minutes to 4 hours',
			action: 'Set presence',
		},
		{
			name: 'Set Status Message',
			value: 'setStatusMessage',
			description: 'Set the status message shown in Teams, optionally until a date and time',
			action: 'Set status message',
		},
		{
			name: 'Set Work Location',
			value: 'setWorkLocation',
			description:
				'Set where the signed-in user works today (office, remote, time off); OAuth2 only',
			action: 'Set work location',
		},
	],
	default: 'getMany',
};

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = operations[operationName];
	if (!operation)
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operationName}" is not supported`,
		);
	const authentication = this.getNodeParameter('authentication', 0) as Authentication;
	const options = readOptions(this);
	const client = await GraphClient.create(this, authentication, options);
	return [await operation.execute.call(this, client, options.simplify === true)];
}
