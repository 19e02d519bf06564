import {
	NodeConnectionTypes,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';

import { presenceCredentials } from '../shared/descriptions';
import { microsoftGraphPresenceAppApiTest } from '../MicrosoftGraphPresence/methods/credentialTest';
import { properties } from './description';
import { pollPresence } from './poll';

export class MicrosoftGraphPresenceTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Graph Presence Trigger',
		name: 'microsoftGraphPresenceTrigger',
		icon: { light: 'file:microsoftGraphPresenceTrigger.svg', dark: 'file:microsoftGraphPresenceTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "Watching presence: " + $parameter["triggerOn"] }}',
		description: 'Starts the workflow when someone\'s Microsoft Teams presence changes (polling Microsoft Graph)',
		defaults: { name: 'Microsoft Graph Presence Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: presenceCredentials,
		properties,
	};

	methods = { credentialTest: { microsoftGraphPresenceAppApiTest } };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollPresence.call(this);
	}
}
