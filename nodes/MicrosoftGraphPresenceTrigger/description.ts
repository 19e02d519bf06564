import type { INodeProperties } from 'n8n-workflow';

import {
	authenticationProperty,
	optionsCollection,
	watchedUsersProperties,
} from '../shared/descriptions';
import { eventOptionFields, triggerOnProperty } from '../shared/trigger/events';

export const properties: INodeProperties[] = [
	authenticationProperty,
	...watchedUsersProperties(
		'Whom to watch: Entra object IDs (GUIDs), user principal names or e-mail addresses, separated by commas, semicolons, spaces or new lines, or an expression giving a list. Every poll reads all of them, 650 per Graph request.',
	),
	triggerOnProperty,
	{
		displayName:
			'Each poll costs one Graph request per 650 watched users. Graph allows 1,500 presence requests per 30 seconds for the app, shared with every other workflow using it.',
		name: 'budgetNotice',
		type: 'notice',
		default: '',
	},
	optionsCollection([
		...eventOptionFields,
		{
			displayName: 'Emit Current Presence on Activation',
			name: 'emitOnActivation',
			type: 'boolean',
			default: false,
			description:
				"Whether the first poll after activation emits everyone's current presence once (otherwise it only records it, and later polls emit changes)",
		},
	]),
];
