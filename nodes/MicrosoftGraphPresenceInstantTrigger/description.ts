import type { INodeProperties } from 'n8n-workflow';

import { optionsCollection, watchedUsersProperties } from '../shared/descriptions';
import { eventOptionFields, triggerOnProperty, type EventOptions } from '../shared/trigger/events';

export interface InstantOptions extends EventOptions {
	richNotifications?: boolean;
}

export const properties: INodeProperties[] = [
	{
		displayName:
			'Graph sends presence changes only to subscriptions made with delegated sign-in (OAuth2, Presence.Read.All): application permissions cannot subscribe to presence. n8n must be reachable from Microsoft over HTTPS (WEBHOOK_URL).',
		name: 'delegatedNotice',
		type: 'notice',
		default: '',
	},
	...watchedUsersProperties(
		'Whom to watch: Entra object IDs (GUIDs), user principal names or e-mail addresses, separated by commas, semicolons, spaces or new lines, or a list. One subscription per 650 users.',
	),
	triggerOnProperty,
	optionsCollection([
		...eventOptionFields,
		{
			displayName: 'Rich Notifications',
			name: 'richNotifications',
			type: 'boolean',
			default: false,
			description:
				'Whether Graph sends the new availability and activity encrypted inside each notification (no extra request); needs the notification certificate and private key in the credential',
		},
	]),
];
