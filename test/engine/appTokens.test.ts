import { resolveCloud } from '../../nodes/shared/transport/clouds';
import { acquireAppToken, readAppCredential } from '../../nodes/shared/transport/appTokens';
import { GraphEmulator } from '../emulator';
import { runWorkflow, type HarnessCredential } from '../harness';
import { appSecretData } from '../shared/graphApp';
import {
	appSecretCredential,
	credentialTypes,
	nodeTypes,
	presenceWorkflow,
	registerApp,
	TENANT,
} from './support';

/**
 * The MSAL applications the process keeps (one per app, with its secret or key and its tokens): a
 * rotated secret replaces the old application at once, an application unused for an hour goes, and
 * many credentials push out the least recently used one, not one in use. Seen from outside through
 * the token requests the emulator's login endpoint receives.
 */

let emu: GraphEmulator;

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 59 });
	emu.addUsers(5);
});
afterAll(async () => await emu.stop());
beforeEach(() => emu.clearLog());

const tokenRequests = (clientId: string) =>
	emu.log.filter(
		(entry) => entry.path.endsWith('/oauth2/v2.0/token') && entry.clientId === clientId,
	);

function getMany(credential: HarnessCredential) {
	return runWorkflow({
		workflow: presenceWorkflow({
			items: [{}],
			parameters: { operation: 'getMany', userIds: emu.users[0].id },
			authentication: 'application',
			credentialId: 'app',
		}),
		nodeTypes,
		credentialTypes,
		credentials: { app: credential },
	});
}

describe('the MSAL applications kept per app', () => {
	it('a rotated secret replaces the application: the old secret no longer gets a token from memory', async () => {
		const app = await registerApp(emu, 'aeaeaeae-0000-4000-8000-000000000001');
		const old = appSecretCredential(emu, app);
		expect((await getMany(old)).error).toBeUndefined();

		// The admin rotates the secret (the old one leaked); the credential gets the new one.
		const rotated = { ...app, clientSecret: 'rotated~secret~Qz8.Lm' };
		emu.registerApp({
			tenantId: TENANT,
			clientId: app.clientId,
			clientSecret: rotated.clientSecret,
			certificatePem: app.certificatePem,
		});
		expect((await getMany(appSecretCredential(emu, rotated))).error).toBeUndefined();

		// A copy of the credential with the old secret: its application and token are gone with the
		// rotation, so it has to sign in again, and Entra refuses the old secret.
		const stale = await getMany(old);
		expect(stale.error?.message).toContain('Could not get an application token (invalid_client)');
		expect(tokenRequests(app.clientId).map((entry) => entry.status)).toEqual([200, 200, 401]);
	});

	it('many other apps push out the least recently used application, not one in use', async () => {
		const busy = await registerApp(emu, 'aeaeaeae-0000-4000-8000-000000000100');
		const busyCredential = appSecretCredential(emu, busy);
		expect((await getMany(busyCredential)).error).toBeUndefined();
		for (let index = 0; index < 120; index++) {
			const other = await registerApp(
				emu,
				`aeaeaeae-0000-4000-8000-${String(1000 + index).padStart(12, '0')}`,
			);
			expect((await getMany(appSecretCredential(emu, other))).error).toBeUndefined();
			// The busy app runs between every ten others.
			if (index % 10 === 9) expect((await getMany(busyCredential)).error).toBeUndefined();
		}
		// One sign-in for all its runs: its token stayed cached while 120 other apps came and went.
		expect(tokenRequests(busy.clientId)).toHaveLength(1);
	});

	it('an application unused for an hour goes', async () => {
		const app = await registerApp(emu, 'aeaeaeae-0000-4000-8000-000000000200');
		const credential = readAppCredential(appSecretData(emu, app));
		const resolved = resolveCloud('custom', emu.url, emu.loginBaseUrl);
		if (!resolved.ok) throw new Error(resolved.message);
		const start = Date.now();
		const token = (at: number) =>
			acquireAppToken('custom', resolved.endpoints, credential, false, start + at);
		const first = await token(0);
		// Used again within the hour: MSAL's cache serves it.
		expect(await token(50 * 60_000)).toBe(first);
		expect(tokenRequests(app.clientId)).toHaveLength(1);
		// An hour after that last use, the application (and its token) is gone: a new sign-in.
		await token(50 * 60_000 + 61 * 60_000);
		expect(tokenRequests(app.clientId)).toHaveLength(2);
	});
});
