import { GraphEmulator } from '../emulator';
import { runWorkflow, type HarnessCredential } from '../harness';
import { startRecordingServer, type RecordingServer } from '../shared/recordingServer';
import {
	appSecretCredential,
	credentialTypes,
	delegatedCredential,
	findSecrets,
	nodeTypes,
	presenceWorkflow,
	registerApp,
	secretsOf,
	type TestApp,
} from './support';

/**
 * Graph requests never follow a redirect: n8n's HTTP helper puts the Authorization header back on any
 * redirect target by default, on both n8n lines, so a redirect would hand the credential's bearer token
 * to another host. The emulator answers 302/307 to a second listener on another port, which records
 * whether anything (and a token) reached it. Both credentials: the application one goes through
 * helpers.httpRequest, the delegated one through n8n's OAuth2 path (httpRequestWithAuthentication).
 */

let emu: GraphEmulator;
let app: TestApp;
let elsewhere: RecordingServer;
const credentials: Record<string, HarnessCredential> = {};

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 53 });
	emu.addUsers(20);
	app = await registerApp(emu, 'acacacac-0000-4000-8000-000000000001');
	credentials.application = appSecretCredential(emu, app);
	credentials.oAuth2 = await delegatedCredential(emu, app);
	// Answers like Graph, so a client that follows the redirect would succeed: the leak is what fails.
	elsewhere = await startRecordingServer((request) =>
		request.method === 'POST'
			? { value: [] }
			: { id: emu.users[0].id, availability: 'Available', activity: 'Available' },
	);
});
afterAll(async () => {
	await elsewhere.close();
	await emu.stop();
});
beforeEach(() => {
	emu.clearLog();
	emu.redirects.length = 0;
	elsewhere.received.length = 0;
});

describe.each(['application', 'oAuth2'] as const)(
	'a redirect from Graph (%s)',
	(authentication) => {
		it.each([
			['Get User', 302, '/presence', { operation: 'get', userId: '' }],
			[
				'Get Many',
				307,
				'/communications/getPresencesByUserId',
				{ operation: 'getMany', userIds: '' },
			],
		] as const)(
			'%s: a %d to another host is refused with a clear error, and nothing reaches that host',
			async (_name, status, path, parameters) => {
				const user = emu.users[1];
				emu.redirects.push({ path, location: `${elsewhere.url}/v1.0${path}`, status });
				const result = await runWorkflow({
					workflow: presenceWorkflow({
						items: [{}],
						parameters: {
							...parameters,
							...(parameters.operation === 'get' ? { userId: user.id } : { userIds: user.id }),
						},
						authentication,
						credentialId: authentication,
					}),
					nodeTypes,
					credentialTypes,
					credentials,
				});
				expect(elsewhere.received).toEqual([]);
				expect(result.error?.message).toBe(
					`Microsoft Graph answered ${status} (a redirect to ${elsewhere.url}) to ${parameters.operation === 'get' ? 'GET' : 'POST'} ${parameters.operation === 'get' ? `/users/${user.id}/presence` : path}; not followed, so the credential's token goes to its Graph host only`,
				);
				expect((result.error as { httpCode?: string } | undefined)?.httpCode).toBe(String(status));
				// Not retried: one request, answered with the redirect.
				expect(emu.requests(path).map((entry) => entry.status)).toEqual([status]);
				expect(
					findSecrets(
						[result.error?.message, result.error?.description, result.logs],
						secretsOf(emu, app),
					),
				).toEqual([]);
			},
		);
	},
);
