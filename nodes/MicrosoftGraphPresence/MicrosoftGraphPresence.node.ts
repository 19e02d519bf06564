import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { operationProperty, operations, router } from './actions/router';
import { authenticationProperty, optionsProperty } from './descriptions/common';
import { microsoftGraphPresenceAppApiTest } from '../shared/methods/credentialTest';
import { searchUsers } from './methods/listSearch';

export class MicrosoftGraphPresence implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Graph Presence',
		name: 'microsoftGraphPresence',
		icon: {
			light: 'file:microsoftGraphPresence.svg',
			dark: 'file:microsoftGraphPresence.dark.svg',
		},
		group: ['transform'],
		version: 1,
		subtitle: `={{ ${JSON.stringify(Object.fromEntries((operationProperty.options ?? []).map((option) => ['value' in option ? String(option.value) : '', option.name])))}[$parameter["operation"]] }}`,
		description:
			'Read Microsoft Teams presence (Available, Busy, Away…) of users through Microsoft Graph, for one user or many thousands at once',
		defaults: { name: 'Microsoft Graph Presence' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// Listed here, not imported: n8n's linter and package scanner look for `testedBy` in the node
		// file itself.
		credentials: [
			{
				name: 'microsoftGraphPresenceOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['oAuth2'] } },
			},
			{
				name: 'microsoftGraphPresenceAppApi',
				required: true,
				displayOptions: { show: { authentication: ['application'] } },
				testedBy: 'microsoftGraphPresenceAppApiTest',
			},
		],
		properties: [
			authenticationProperty,
			operationProperty,
			...Object.values(operations).flatMap((operation) => operation.description),
			optionsProperty,
		],
	};

	methods = { credentialTest: { microsoftGraphPresenceAppApiTest }, listSearch: { searchUsers } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
