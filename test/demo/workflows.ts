/**
 * The demo's sample workflows, as users would build them: n8n's own nodes around the Presence node.
 * Node versions are ones n8n 2.x and 1.123.x both know.
 */

const PRESENCE = 'n8n-nodes-msgraph-presence.microsoftGraphPresence';

interface Credentials {
	app: { id: string; name: string };
	delegated?: { id: string; name: string };
}

const trigger = {
	id: 't',
	name: 'When clicking ‘Execute workflow’',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

/** A team → Get Many (one request for the whole team) → only the Available ones → a message per person. */
export function teamAvailabilityWorkflow(id: string, teamIds: string[], credentials: Credentials) {
	return {
		id,
		name: 'Presence demo: who in the team is available?',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			trigger,
			{
				id: 'team',
				name: 'Team members',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [220, 0],
				parameters: {
					jsCode: `// One item per team member, as a "Get group members" step would give.\nreturn ${JSON.stringify(teamIds)}.map((id) => ({ json: { id } }));`,
				},
			},
			{
				id: 'presence',
				name: 'Get presence of the team',
				type: PRESENCE,
				typeVersion: 1,
				position: [440, 0],
				parameters: {
					authentication: 'application',
					operation: 'getMany',
					userIds: '={{ $json.id }}',
					options: { simplify: true, includeUserDetails: true },
				},
				credentials: { microsoftGraphPresenceAppApi: credentials.app },
			},
			{
				id: 'available',
				name: 'Only available people',
				type: 'n8n-nodes-base.if',
				typeVersion: 1,
				position: [660, 0],
				parameters: {
					conditions: {
						string: [
							{ value1: '={{ $json.availability }}', operation: 'equal', value2: 'Available' },
						],
					},
				},
			},
			{
				id: 'message',
				name: 'Message per person',
				type: 'n8n-nodes-base.set',
				typeVersion: 1,
				position: [880, -80],
				parameters: {
					keepOnlySet: true,
					values: {
						string: [
							{
								name: 'message',
								value:
									'={{ $json.displayName }} is available ({{ $json.activity }}) — route the next chat to {{ $json.mail }}',
							},
						],
					},
				},
			},
		],
		connections: {
			[trigger.name]: { main: [[{ node: 'Team members', type: 'main', index: 0 }]] },
			'Team members': { main: [[{ node: 'Get presence of the team', type: 'main', index: 0 }]] },
			'Get presence of the team': {
				main: [[{ node: 'Only available people', type: 'main', index: 0 }]],
			},
			'Only available people': {
				main: [[{ node: 'Message per person', type: 'main', index: 0 }], []],
			},
		},
	};
}

/** Get Me with the delegated credential, and Get User by user principal name. */
export function meAndColleagueWorkflow(id: string, colleague: string, credentials: Credentials) {
	const nodes: Array<Record<string, unknown>> = [
		trigger,
		{
			id: 'user',
			name: 'Colleague by name',
			type: PRESENCE,
			typeVersion: 1,
			position: [220, 120],
			parameters: { authentication: 'application', operation: 'get', userId: colleague },
			credentials: { microsoftGraphPresenceAppApi: credentials.app },
		},
	];
	const connections: Record<string, unknown> = {
		[trigger.name]: { main: [[{ node: 'Colleague by name', type: 'main', index: 0 }]] },
	};
	if (credentials.delegated) {
		nodes.push({
			id: 'me',
			name: 'My presence',
			type: PRESENCE,
			typeVersion: 1,
			position: [220, -120],
			parameters: { authentication: 'oAuth2', operation: 'getMe' },
			credentials: { microsoftGraphPresenceOAuth2Api: credentials.delegated },
		});
		connections[trigger.name] = {
			main: [
				[
					{ node: 'Colleague by name', type: 'main', index: 0 },
					{ node: 'My presence', type: 'main', index: 0 },
				],
			],
		};
	}
	return {
		id,
		name: 'Presence demo: me and a colleague',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes,
		connections,
	};
}
