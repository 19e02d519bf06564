import {
	NodeConnectionTypes,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';

import { microsoftGraphPresenceAppApiTest } from '../shared/methods/credentialTest';
import { properties } from './description';
import { pollPresence } from './poll';

export class MicrosoftGraphPresenceTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Graph Presence Trigger',
		name: 'microsoftGraphPresenceTrigger',
		icon: {
			light: 'file:microsoftGraphPresenceTrigger.svg',
			dark: 'file:microsoftGraphPresenceTrigger.dark.svg',
		},
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "Watching presence: " + $parameter["triggerOn"] }}',
		description:
			"Starts the workflow when someone's Microsoft Teams presence changes (polling Microsoft Graph)",
		defaults: { name: 'Microsoft Graph Presence Trigger' },
		polling: true,
		inputs: [],
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
		properties,
	};

	methods = { credentialTest: { microsoftGraphPresenceAppApiTest } };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollPresence.call(this);
	}
}
