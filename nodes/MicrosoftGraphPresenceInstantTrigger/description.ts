import type { INodeProperties } from 'n8n-workflow';

import { optionsCollection, watchedUsersProperties } from '../shared/descriptions';
import { eventOptionFields, triggerOnProperty, type EventOptions } from '../shared/trigger/events';

export interface InstantOptions extends EventOptions {
	richNotifications?: boolean;
	pollMinutes?: number;
	severalWebhookProcesses?: boolean;
}

export const properties: INodeProperties[] = [
	{
		displayName:
			'Graph sends presence changes only to subscriptions made with delegated sign-in (OAuth2, Presence.Read.All): application permissions cannot subscribe to presence. n8n must be reachable from Microsoft over HTTPS (N8N_WEBHOOK_URL, or WEBHOOK_URL before n8n 2.35).',
		name: 'delegatedNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName:
			"Graph allows one presence subscription per signed-in user and app, covering up to 650 users: the first 650 watched users are instant, everyone after them is read every minute (see Options), 650 per request. A second Instant Trigger on the same credential polls all its users until the subscription is free; n8n's log says which.",
		name: 'subscriptionNotice',
		type: 'notice',
		default: '',
	},
	...watchedUsersProperties(
		'Whom to watch: Entra object IDs (GUIDs), user principal names or e-mail addresses, separated by commas, semicolons, spaces or new lines, or a list. The first 650 are instant; any number more are polled.',
	),
	triggerOnProperty,
	optionsCollection([
		...eventOptionFields,
		{
			displayName: 'Poll Users Beyond the Subscription Every (Minutes)',
			name: 'pollMinutes',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 60 },
			default: 1,
			description:
				"How often the watched users after the first 650 (or all of them, while another holds this account's subscription) are read through Graph, 650 per request",
		},
		{
			displayName: 'Rich Notifications',
			name: 'richNotifications',
			type: 'boolean',
			default: false,
			description:
				'Whether Graph sends the new availability and activity encrypted inside each notification (no extra request); needs the notification certificate and private key in the credential',
		},
		{
			displayName: 'Several Webhook Processes',
			name: 'severalWebhookProcesses',
			type: 'boolean',
			default: false,
			description:
				"Whether n8n runs separate webhook processes (queue mode with 'n8n webhook') that receive Graph's deliveries. Each process compares with what it has seen, so a change back to a state another process reported would look like no change; on, every new version is emitted at least once (perhaps twice: de-duplicate on changeId), and one whose state before is unknown has previous null.",
		},
	]),
];
