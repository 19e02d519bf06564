import {
	NodeConnectionTypes,
	type IHookFunctions,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { isSubscribed, subscribe, unsubscribe } from './activation';
import { properties } from './description';
import { startRenewal } from './renewal';
import { receive } from './webhook';

export class MicrosoftGraphPresenceInstantTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Graph Presence Instant Trigger',
		name: 'microsoftGraphPresenceInstantTrigger',
		icon: {
			light: 'file:microsoftGraphPresenceInstantTrigger.svg',
			dark: 'file:microsoftGraphPresenceInstantTrigger.dark.svg',
		},
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "Instant: " + $parameter["triggerOn"] }}',
		description:
			"Starts the workflow the moment someone's Microsoft Teams presence changes (Graph change notifications, renewed automatically)",
		defaults: { name: 'Microsoft Graph Presence Instant Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'microsoftGraphPresenceOAuth2Api', required: true }],
		webhooks: [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'presence' },
		],
		properties,
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await isSubscribed.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await subscribe.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await unsubscribe.call(this);
			},
		},
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		return await startRenewal.call(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receive.call(this);
	}
}
