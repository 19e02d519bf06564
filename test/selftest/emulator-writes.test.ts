import { randomUUID } from 'node:crypto';
import { asArray, asRecord, str } from '../shared/json';
import {
	CLIENT,
	emulatorClient,
	graphError,
	registerClient,
	type Reply,
} from '../shared/emulatorClient';
import { GraphEmulator } from '../emulator';

const SESSION = CLIENT;
const MINUTE = 60_000;

let emu: GraphEmulator;
let app: string;
let me: string;
const { graph, post, appToken, signIn } = emulatorClient(() => emu);

/** The presence as both read routes show it; they must agree. */
async function readPresence(userId: string): Promise<Record<string, unknown>> {
	const single = await graph(app, `/v1.0/users/${userId}/presence`);
	expect(single.status).toBe(200);
	const many = await graph(app, '/v1.0/communications/getPresencesByUserId', {
		body: { ids: [userId] },
	});
	expect(many.status).toBe(200);
	const [fromMany] = asArray(many.body.value).map(asRecord);
	for (const key of ['availability', 'activity', 'sequenceNumber', 'statusMessage', 'workLocation'])
		expect(fromMany[key]).toEqual(single.body[key]);
	return single.body;
}

function expectEmpty200(res: Reply): void {
	expect(res.status).toBe(200);
	expect(res.text).toBe('');
	expect(res.headers.get('content-length')).toBe('0');
	expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
}

function seq(userId: string): string {
	return str(emu.getUser(userId)?.presence.sequenceNumber);
}

beforeEach(async () => {
	emu = await GraphEmulator.start({ seed: 7 });
	emu.addUsers(30);
	registerClient(emu);
	// Base presences that none of the writes below produce, so every override is visible.
	for (const u of emu.users)
		emu.setPresence(u.id, { availability: 'Offline', activity: 'Offline' });
	app = await appToken();
	me = (await signIn()).access;
});

afterEach(async () => {
	await emu.stop();
});

describe('setPresence / clearPresence', () => {
	it('stores an app session (default PT5M) that GET and getPresencesByUserId show, and advances sequenceNumber', async () => {
		const u = emu.users[3];
		const before = seq(u.id);
		const started = Date.now();
		const res = await post(app, `/v1.0/users/${u.id}/presence/setPresence`, {
			sessionId: SESSION,
			availability: 'Busy',
			activity: 'InACall',
		});
		expectEmpty200(res);
		expect(res.headers.get('content-type')).toBeNull();

		const read = await readPresence(u.id);
		expect(read).toMatchObject({ id: u.id, availability: 'Busy', activity: 'InACall' });
		expect(str(read.sequenceNumber) > before).toBe(true);
		// The base presence is untouched; the effective one is what Graph answers.
		expect(emu.getUser(u.id)?.presence).toMatchObject({
			availability: 'Offline',
			activity: 'Offline',
		});
		expect(emu.effectivePresence(u.id)).toMatchObject({
			availability: 'Busy',
			activity: 'InACall',
			sequenceNumber: read.sequenceNumber,
		});

		const [session, ...others] = emu.presenceSessions(u.id);
		expect(others).toHaveLength(0);
		expect(session).toMatchObject({
			sessionId: SESSION,
			availability: 'Busy',
			activity: 'InACall',
			expirationDuration: 'PT5M',
		});
		const expiresIn = Date.parse(session.expiryDateTime) - started;
		expect(expiresIn).toBeGreaterThanOrEqual(5 * MINUTE);
		expect(expiresIn).toBeLessThan(5 * MINUTE + 5000);

		const [entry] = emu.requests('/presence/setPresence');
		expect(entry).toMatchObject({
			method: 'POST',
			status: 200,
			tokenKind: 'app',
			body: { sessionId: SESSION, availability: 'Busy', activity: 'InACall' },
		});
	});

	it('works under /beta and /me for delegated tokens, values compared case-insensitively, answered in Graph casing', async () => {
		const myId = str(emu.meUserId);
		const res = await post(me, '/beta/me/presence/setPresence', {
			sessionId: SESSION,
			availability: 'donotdisturb',
			activity: 'PRESENTING',
			expirationDuration: 'PT1H30M',
		});
		expectEmpty200(res);
		const mine = await graph(me, '/beta/me/presence');
		expect(mine.body).toMatchObject({
			id: myId,
			availability: 'DoNotDisturb',
			activity: 'Presenting',
		});
		expect(emu.presenceSessions(myId)[0].expirationDuration).toBe('PT1H30M');
	});

	it('rejects invalid pairs, session ids, durations and users without changing anything', async () => {
		const u = emu.users[5];
		const path = `/v1.0/users/${u.id}/presence/setPresence`;
		const before = seq(u.id);

		const pair = await post(app, path, {
			sessionId: SESSION,
			availability: 'Busy',
			activity: 'Away',
		});
		expect(pair.status).toBe(400);
		expect(graphError(pair).code).toBe('BadRequest');
		expect(graphError(pair).message).toContain("'Busy/Away'");
		// Valid for preferred presence, not for an app session.
		expect(
			(await post(app, path, { sessionId: SESSION, availability: 'Busy', activity: 'Busy' }))
				.status,
		).toBe(400);
		expect((await post(app, path, { sessionId: SESSION, availability: 'Busy' })).status).toBe(400);

		for (const sessionId of [undefined, 'not-a-guid', 42]) {
			const res = await post(app, path, {
				sessionId,
				availability: 'Available',
				activity: 'Available',
			});
			expect(res.status).toBe(400);
			expect(graphError(res).message).toContain('sessionId');
		}
		for (const expirationDuration of [
			'PT4M59S',
			'PT4H1M',
			'PT5H',
			'P1D',
			'5 minutes',
			'pt5m',
			'PT',
			300,
		]) {
			const res = await post(app, path, {
				sessionId: SESSION,
				availability: 'Available',
				activity: 'Available',
				expirationDuration,
			});
			expect(res.status).toBe(400);
			expect(graphError(res).message).toContain('expirationDuration');
		}
		expect((await post(app, path)).status).toBe(400);
		expect(
			(
				await post(app, `/v1.0/users/${u.userPrincipalName}/presence/setPresence`, {
					sessionId: SESSION,
					availability: 'Away',
					activity: 'Away',
				})
			).status,
		).toBe(400);
		expect(
			(
				await post(app, `/v1.0/users/${randomUUID()}/presence/setPresence`, {
					sessionId: SESSION,
					availability: 'Away',
					activity: 'Away',
				})
			).status,
		).toBe(404);
		expect((await graph(app, path)).status).toBe(405);

		expect(seq(u.id)).toBe(before);
		expect(emu.presenceSessions(u.id)).toEqual([]);

		// The bounds themselves are allowed.
		for (const expirationDuration of ['PT5M', 'PT4H', 'PT300S', 'PT0H20M']) {
			expectEmpty200(
				await post(app, path, {
					sessionId: SESSION,
					availability: 'Away',
					activity: 'Away',
					expirationDuration,
				}),
			);
		}
	});

	it('clearPresence: 404 for a session that does not exist, else removes it', async () => {
		const u = emu.users[6];
		const missing = await post(app, `/v1.0/users/${u.id}/presence/clearPresence`, {
			sessionId: SESSION,
		});
		expect(missing.status).toBe(404);
		expect(graphError(missing).code).toBe('NotFound');
		expect(graphError(missing).message).toMatch(/does not exist/);
		expect(
			(await post(app, `/v1.0/users/${u.id}/presence/clearPresence`, { sessionId: 'x' })).status,
		).toBe(400);

		expectEmpty200(
			await post(app, `/v1.0/users/${u.id}/presence/setPresence`, {
				sessionId: SESSION,
				availability: 'Available',
				activity: 'Available',
			}),
		);
		const during = seq(u.id);
		// Session ids compare case-insensitively, like every other GUID in Graph.
		expectEmpty200(
			await post(app, `/beta/users/${u.id}/presence/clearPresence`, {
				sessionId: SESSION.toUpperCase(),
			}),
		);
		expect(emu.presenceSessions(u.id)).toEqual([]);
		const read = await readPresence(u.id);
		expect(read).toMatchObject({ availability: 'Offline', activity: 'Offline' });
		expect(str(read.sequenceNumber) > during).toBe(true);
		expect(
			(await post(app, `/v1.0/users/${u.id}/presence/clearPresence`, { sessionId: SESSION }))
				.status,
		).toBe(404);
	});
});

describe('setUserPreferredPresence / clearUserPreferredPresence', () => {
	it('sets (until cleared, or for a duration) and clears; invalid pairs and durations are 400', async () => {
		const u = emu.users[8];
		const path = `/v1.0/users/${u.id}/presence`;
		const before = seq(u.id);
		expectEmpty200(
			await post(app, `${path}/setUserPreferredPresence`, {
				availability: 'BeRightBack',
				activity: 'BeRightBack',
			}),
		);
		const read = await readPresence(u.id);
		expect(read).toMatchObject({ availability: 'BeRightBack', activity: 'BeRightBack' });
		expect(str(read.sequenceNumber) > before).toBe(true);
		// Graph's default for BeRightBack: 7 days (presence-setuserpreferredpresence).
		const preferred = emu.preferredPresence(u.id);
		expect(preferred).toMatchObject({ availability: 'BeRightBack', expirationDuration: null });
		expect(
			Date.parse(preferred?.expiryDateTime ?? '') - Date.parse(preferred?.setDateTime ?? ''),
		).toBe(7 * 24 * 60 * MINUTE);

		const pair = await post(app, `${path}/setUserPreferredPresence`, {
			availability: 'Busy',
			activity: 'InACall',
		});
		expect(pair.status).toBe(400);
		expect(graphError(pair).message).toContain("'Busy/InACall'");
		const duration = await post(app, `${path}/setUserPreferredPresence`, {
			availability: 'Offline',
			activity: 'OffWork',
			expirationDuration: 'PT4M',
		});
		expect(duration.status).toBe(400);
		expect(graphError(duration).message).toContain('PT5M');
		expect((await readPresence(u.id)).availability).toBe('BeRightBack');

		expectEmpty200(
			await post(app, `${path}/setUserPreferredPresence`, {
				availability: 'Offline',
				activity: 'OffWork',
				expirationDuration: 'PT2H',
			}),
		);
		expect(emu.preferredPresence(u.id)).toMatchObject({
			availability: 'Offline',
			activity: 'OffWork',
			expirationDuration: 'PT2H',
		});

		const set = seq(u.id);
		expectEmpty200(await post(app, `${path}/clearUserPreferredPresence`));
		expect(emu.preferredPresence(u.id)).toBeUndefined();
		const cleared = await readPresence(u.id);
		expect(cleared).toMatchObject({ availability: 'Offline', activity: 'Offline' });
		expect(str(cleared.sequenceNumber) > set).toBe(true);
		// Clearing again is fine: Graph documents no error for it.
		expectEmpty200(await post(me, '/v1.0/me/presence/clearUserPreferredPresence'));
	});
});

describe('precedence and expiry', () => {
	it('preferred over the newest session over the base presence; expiry falls back and advances sequenceNumber', async () => {
		const u = emu.users[10];
		const base = `/v1.0/users/${u.id}/presence`;
		const other = randomUUID();
		expectEmpty200(
			await post(app, `${base}/setPresence`, {
				sessionId: SESSION,
				availability: 'Away',
				activity: 'Away',
				expirationDuration: 'PT1H',
			}),
		);
		expectEmpty200(
			await post(app, `${base}/setPresence`, {
				sessionId: other,
				availability: 'Busy',
				activity: 'InAConferenceCall',
				expirationDuration: 'PT10M',
			}),
		);
		expect((await readPresence(u.id)).activity).toBe('InAConferenceCall');
		expect(emu.presenceSessions(u.id).map((s) => s.sessionId)).toEqual([other, SESSION]);

		expectEmpty200(
			await post(app, `${base}/setUserPreferredPresence`, {
				availability: 'DoNotDisturb',
				activity: 'DoNotDisturb',
				expirationDuration: 'PT5M',
			}),
		);
		expect(await readPresence(u.id)).toMatchObject({
			availability: 'DoNotDisturb',
			activity: 'DoNotDisturb',
		});

		// emu.setPresence changes the base, which stays hidden below the overrides.
		emu.setPresence(u.id, { availability: 'Available', activity: 'Available' });
		expect((await readPresence(u.id)).availability).toBe('DoNotDisturb');

		// 6 minutes: the preferred presence has expired, the newest session shows again.
		let last = seq(u.id);
		emu.advancePresenceClock(6 * MINUTE);
		let read = await readPresence(u.id);
		expect(read).toMatchObject({ availability: 'Busy', activity: 'InAConferenceCall' });
		expect(str(read.sequenceNumber) > last).toBe(true);
		expect(emu.preferredPresence(u.id)).toBeUndefined();

		// Reading again without a change keeps the sequenceNumber.
		expect((await readPresence(u.id)).sequenceNumber).toBe(read.sequenceNumber);

		// 11 minutes: the newer session has expired, the older one shows.
		last = str(read.sequenceNumber);
		emu.advancePresenceClock(5 * MINUTE);
		read = await readPresence(u.id);
		expect(read).toMatchObject({ availability: 'Away', activity: 'Away' });
		expect(str(read.sequenceNumber) > last).toBe(true);
		expect(emu.presenceSessions(u.id).map((s) => s.sessionId)).toEqual([SESSION]);
		// An expired session no longer exists.
		expect((await post(app, `${base}/clearPresence`, { sessionId: other })).status).toBe(404);

		// Setting an existing session again makes it the newest.
		expectEmpty200(
			await post(app, `${base}/setPresence`, {
				sessionId: other,
				availability: 'Available',
				activity: 'Available',
			}),
		);
		expectEmpty200(
			await post(app, `${base}/setPresence`, {
				sessionId: SESSION,
				availability: 'Busy',
				activity: 'InACall',
				expirationDuration: 'PT1H',
			}),
		);
		expect((await readPresence(u.id)).activity).toBe('InACall');

		// Past every expiry: the base presence.
		emu.advancePresenceClock(2 * 60 * MINUTE);
		expect(await readPresence(u.id)).toMatchObject({
			availability: 'Available',
			activity: 'Available',
		});
		expect(emu.presenceSessions(u.id)).toEqual([]);
	});
});

describe('setStatusMessage', () => {
	it('sets, with or without expiry, clears with empty content, and rejects malformed bodies', async () => {
		const u = emu.users[11];
		const path = `/v1.0/users/${u.id}/presence/setStatusMessage`;
		const before = seq(u.id);
		const expiryDateTime = {
			dateTime: '2030-11-24T17:00:00.0000000',
			timeZone: 'W. Europe Standard Time',
		};
		expectEmpty200(
			await post(app, path, {
				statusMessage: { message: { content: 'In the lab', contentType: 'text' }, expiryDateTime },
			}),
		);
		let read = await readPresence(u.id);
		expect(read.statusMessage).toEqual({
			message: { content: 'In the lab', contentType: 'text' },
			expiryDateTime,
			publishedDateTime: expect.any(String),
		});
		const published = Date.parse(str(asRecord(read.statusMessage).publishedDateTime));
		expect(Math.abs(published - Date.now())).toBeLessThan(5000);
		expect(str(read.sequenceNumber) > before).toBe(true);

		expectEmpty200(
			await post(me, '/beta/me/presence/setStatusMessage', {
				statusMessage: { message: { content: 'Heads down', contentType: 'text' } },
			}),
		);
		const mine = await graph(me, '/v1.0/me/presence');
		expect(asRecord(mine.body.statusMessage)).toMatchObject({
			message: { content: 'Heads down' },
			expiryDateTime: { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' },
		});

		const bad: unknown[] = [
			{},
			{ statusMessage: null },
			{ statusMessage: { message: { content: 5, contentType: 'text' } } },
			{ statusMessage: { message: { content: 'x', contentType: 'html' } } },
			{ statusMessage: { message: { content: 'x' } } },
			{
				statusMessage: {
					message: { content: 'x', contentType: 'text' },
					expiryDateTime: { dateTime: '2030-11-24T17:00:00Z', timeZone: 'UTC' },
				},
			},
			{
				statusMessage: {
					message: { content: 'x', contentType: 'text' },
					expiryDateTime: { dateTime: '2030-11-24T17:00:00+01:00', timeZone: 'UTC' },
				},
			},
			{
				statusMessage: {
					message: { content: 'x', contentType: 'text' },
					expiryDateTime: { dateTime: '2030-02-30T17:00:00', timeZone: 'UTC' },
				},
			},
			{
				statusMessage: {
					message: { content: 'x', contentType: 'text' },
					expiryDateTime: { dateTime: '2030-11-24T17:00:00' },
				},
			},
			{
				statusMessage: {
					message: { content: 'x', contentType: 'text' },
					expiryDateTime: { dateTime: '2030-11-24 17:00', timeZone: 'UTC' },
				},
			},
		];
		const kept = seq(u.id);
		for (const body of bad) {
			const res = await post(app, path, body);
			expect([res.status, graphError(res).code]).toEqual([400, 'BadRequest']);
		}
		expect(seq(u.id)).toBe(kept);

		expectEmpty200(
			await post(app, path, { statusMessage: { message: { content: '', contentType: 'text' } } }),
		);
		read = await readPresence(u.id);
		expect(read.statusMessage).toBeNull();
		expect(str(read.sequenceNumber) > kept).toBe(true);
	});
});

describe('/me only', () => {
	it('answers app tokens on every /me write with the /me 400', async () => {
		const paths = [
			'setPresence',
			'clearPresence',
			'setUserPreferredPresence',
			'clearUserPreferredPresence',
			'setStatusMessage',
			'setManualLocation',
			'setAutomaticLocation',
			'clearAutomaticLocation',
			'clearLocation',
		];
		for (const action of paths) {
			const res = await post(app, `/v1.0/me/presence/${action}`, {
				sessionId: SESSION,
				availability: 'Away',
				activity: 'Away',
				workLocationType: 'office',
			});
			expect(res.status).toBe(400);
			expect(graphError(res)).toEqual({
				code: 'BadRequest',
				message: '/me request is only valid with delegated authentication flow.',
			});
		}
		expect(emu.presenceSessions(str(emu.meUserId))).toEqual([]);
	});

	it('work location: 204, manual over automatic over base, clearAutomaticLocation and clearLocation', async () => {
		const myId = str(emu.meUserId);
		const before = seq(myId);
		const manual = await post(me, '/v1.0/me/presence/setManualLocation', {
			workLocationType: 'office',
			placeId: 'bldg-7',
		});
		expect(manual.status).toBe(204);
		expect(manual.text).toBe('');
		let read = await readPresence(myId);
		expect(read.workLocation).toEqual({
			workLocationType: 'office',
			source: 'manual',
			placeId: 'bldg-7',
		});
		expect(str(read.sequenceNumber) > before).toBe(true);

		expect(
			(await post(me, '/beta/me/presence/setAutomaticLocation', { workLocationType: 'remote' }))
				.status,
		).toBe(204);
		expect((await readPresence(myId)).workLocation).toEqual({
			workLocationType: 'office',
			source: 'manual',
			placeId: 'bldg-7',
		});

		const clearAll = seq(myId);
		expect((await post(me, '/v1.0/me/presence/clearLocation')).status).toBe(204);
		read = await readPresence(myId);
		expect(read.workLocation).toEqual({
			workLocationType: 'unspecified',
			source: 'none',
			placeId: null,
		});
		expect(str(read.sequenceNumber) > clearAll).toBe(true);

		expect(
			(await post(me, '/v1.0/me/presence/setAutomaticLocation', { workLocationType: 'remote' }))
				.status,
		).toBe(204);
		expect((await readPresence(myId)).workLocation).toEqual({
			workLocationType: 'remote',
			source: 'automatic',
			placeId: null,
		});
		expect(
			(await post(me, '/v1.0/me/presence/setManualLocation', { workLocationType: 'timeOff' }))
				.status,
		).toBe(204);
		expect((await post(me, '/v1.0/me/presence/clearAutomaticLocation')).status).toBe(204);
		expect((await readPresence(myId)).workLocation).toEqual({
			workLocationType: 'timeOff',
			source: 'manual',
			placeId: null,
		});

		for (const body of [
			{},
			{ workLocationType: 'home' },
			{ workLocationType: 'office', placeId: 12 },
			undefined,
		]) {
			const res = await post(me, '/v1.0/me/presence/setManualLocation', body);
			expect(res.status).toBe(400);
			expect(graphError(res).code).toBe('BadRequest');
		}
		// Graph has these for /me only.
		expect(
			(
				await post(app, `/v1.0/users/${myId}/presence/setManualLocation`, {
					workLocationType: 'office',
				})
			).status,
		).toBe(400);
	});
});

describe('writes through the pipeline', () => {
	it('in $batch (no body in the sub-response), under faults, and throttled like any request', async () => {
		const u = emu.users[12];
		const batch = await post(app, '/v1.0/$batch', {
			requests: [
				{
					id: '1',
					method: 'POST',
					url: `/users/${u.id}/presence/setPresence`,
					headers: { 'Content-Type': 'application/json' },
					body: { sessionId: SESSION, availability: 'Away', activity: 'Away' },
				},
				{ id: '2', method: 'POST', url: `/users/${u.id}/presence/clearUserPreferredPresence` },
			],
		});
		expect(batch.status).toBe(200);
		const responses = asArray(batch.body.responses).map(asRecord);
		expect(responses.map((r) => [r.id, r.status]).sort()).toEqual([
			['1', 200],
			['2', 200],
		]);
		expect(responses.every((r) => r.body === undefined)).toBe(true);
		expect((await readPresence(u.id)).availability).toBe('Away');

		emu.faults = { rateMalformedJson: 1 };
		const malformed = await fetch(
			`${emu.url}/v1.0/users/${u.id}/presence/clearUserPreferredPresence`,
			{ method: 'POST', headers: { Authorization: `Bearer ${app}` } },
		);
		expect(malformed.status).toBe(200);
		expect(await malformed.text()).toBe('{');
		emu.faults = {};

		emu.throttle = { limit: 1, windowMs: 60_000 };
		expectEmpty200(await post(app, `/v1.0/users/${u.id}/presence/clearUserPreferredPresence`));
		const throttled = await post(app, `/v1.0/users/${u.id}/presence/clearUserPreferredPresence`);
		expect(throttled.status).toBe(429);
		expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);

		expect(
			(await post('emu-at-bogus', `/v1.0/users/${u.id}/presence/clearUserPreferredPresence`))
				.status,
		).toBe(401);
	});
});

describe('groups', () => {
	it('are deterministic per seed', async () => {
		const other = await GraphEmulator.start({ seed: 7 });
		try {
			other.addUsers(3);
			const a = other.addGroup({ displayName: 'A', members: [other.users[0].id] });
			const b = emu.addGroup({ displayName: 'A', members: [emu.users[1].id] });
			expect(a.id).toBe(b.id);
			expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
			expect(emu.addGroup({ displayName: 'B', members: [] }).id).not.toBe(a.id);
		} finally {
			await other.stop();
		}
		expect(() => emu.addGroup({ displayName: 'X', members: [randomUUID()] })).toThrow(/neither/);
	});

	it('transitiveMembers: nested groups flattened, cycles safe, de-duplicated, non-user members typed', async () => {
		const [u1, u2, u3, u4] = emu.users;
		const inner = emu.addGroup({
			displayName: 'Inner',
			members: [u1.id, u2.userPrincipalName],
			nonUserMembers: 3,
		});
		const middle = emu.addGroup({ displayName: 'Middle', members: [u3.id, inner.id, u1.id] });
		const outer = emu.addGroup({ displayName: 'Outer', members: [middle.id, u4.id, u2.id] });
		emu.addGroupMembers(inner.id, [outer.id]); // a cycle: Inner -> Outer -> Middle -> Inner

		const users = await graph(
			app,
			`/v1.0/groups/${outer.id}/transitiveMembers/microsoft.graph.user?$select=id,displayName`,
		);
		expect(users.status).toBe(200);
		expect(str(users.body['@odata.context'])).toContain('#users(id,displayName)');
		const userRows = asArray(users.body.value).map(asRecord);
		expect(userRows.map((r) => r.id).sort()).toEqual([u1.id, u2.id, u3.id, u4.id].sort());
		expect(userRows[0]).toEqual({
			id: expect.any(String),
			displayName: expect.stringMatching(/^User \d+$/),
		});
		expect(users.body['@odata.nextLink']).toBeUndefined();

		const all = await graph(app, `/beta/groups/${outer.id}/transitiveMembers`);
		expect(all.status).toBe(200);
		const rows = asArray(all.body.value).map(asRecord);
		const byType = (t: string): Array<Record<string, unknown>> =>
			rows.filter((r) => r['@odata.type'] === `#microsoft.graph.${t}`);
		expect(byType('user')).toHaveLength(4);
		expect(
			byType('group')
				.map((r) => r.id)
				.sort(),
		).toEqual([inner.id, middle.id].sort());
		expect(byType('device')).toHaveLength(2);
		expect(byType('orgContact')).toHaveLength(1);
		expect(rows).toHaveLength(9);
		expect(new Set(rows.map((r) => r.id)).size).toBe(9);
		expect(byType('user')[0]).toMatchObject({
			userPrincipalName: expect.stringMatching(/@contoso\.test$/),
		});
		expect(byType('device')[0]).toMatchObject({ displayName: expect.stringMatching(/^Device /) });
		// Non-user objects sit among the users, not after them.
		const innerRows = asArray(
			(await graph(app, `/v1.0/groups/${inner.id}/transitiveMembers?$select=id`)).body.value,
		).map(asRecord);
		expect(innerRows.map((r) => r['@odata.type'])).toEqual([
			'#microsoft.graph.user',
			'#microsoft.graph.device',
			'#microsoft.graph.user',
			'#microsoft.graph.orgContact',
			'#microsoft.graph.device',
			'#microsoft.graph.group',
			'#microsoft.graph.group',
			'#microsoft.graph.user',
			'#microsoft.graph.user',
		]);
		expect(Object.keys(innerRows[0]).sort()).toEqual(['@odata.type', 'id']);

		expect(emu.requests('/transitiveMembers')).toHaveLength(3);
		expect(emu.requests('/transitiveMembers')[0]).toMatchObject({
			method: 'GET',
			status: 200,
			query: { $select: 'id,displayName' },
		});
	});

	it('pages with $top and an absolute @odata.nextLink; 400 for a bad $top; 404 for an unknown group', async () => {
		const big = emu.addGroup({
			displayName: 'Everyone',
			members: emu.users.map((u) => u.id),
			nonUserMembers: 4,
		});
		const seen: string[] = [];
		let next: string | undefined =
			`/v1.0/groups/${big.id}/transitiveMembers/microsoft.graph.user?$select=id&$top=7`;
		let pages = 0;
		while (next !== undefined) {
			const res = await graph(app, next);
			expect(res.status).toBe(200);
			const value = asArray(res.body.value).map(asRecord);
			seen.push(...value.map((r) => str(r.id)));
			pages += 1;
			next =
				typeof res.body['@odata.nextLink'] === 'string' ? res.body['@odata.nextLink'] : undefined;
			if (next !== undefined) {
				expect(
					next.startsWith(
						`${emu.url}/v1.0/groups/${big.id}/transitiveMembers/microsoft.graph.user?`,
					),
				).toBe(true);
				expect(next).toContain('$skiptoken=');
				expect(next).toContain('$top=7');
				expect(value).toHaveLength(7);
			}
		}
		expect(pages).toBe(5);
		expect(seen).toEqual(emu.users.map((u) => u.id));
		expect(emu.requests(`/groups/${big.id}`)).toHaveLength(5);

		// Default page size 100: 34 objects fit on one page.
		const all = await graph(app, `/v1.0/groups/${big.id}/transitiveMembers`);
		expect(asArray(all.body.value)).toHaveLength(34);
		expect(all.body['@odata.nextLink']).toBeUndefined();

		for (const top of ['0', '1000', 'ten']) {
			const res = await graph(app, `/v1.0/groups/${big.id}/transitiveMembers?$top=${top}`);
			expect(res.status).toBe(400);
		}
		expect((await graph(app, `/v1.0/groups/${big.id}/transitiveMembers?$top=999`)).status).toBe(
			200,
		);
		expect(
			(await graph(app, `/v1.0/groups/${big.id}/transitiveMembers?$skiptoken=garbage`)).status,
		).toBe(400);

		const unknown = await graph(
			app,
			`/v1.0/groups/${randomUUID()}/transitiveMembers/microsoft.graph.user`,
		);
		expect(unknown.status).toBe(404);
		expect(graphError(unknown).code).toBe('Request_ResourceNotFound');
		expect((await graph(app, `/v1.0/groups/${randomUUID()}/transitiveMembers`)).status).toBe(404);
		expect((await graph(app, '/v1.0/groups/not-a-guid/transitiveMembers')).status).toBe(400);
	});

	it('GET /groups?$filter=displayName eq: exact, case-insensitive, doubled quotes; GET /groups/{id}', async () => {
		const obrien = emu.addGroup({ displayName: "O'Brien Team", members: [emu.users[0].id] });
		const sales = emu.addGroup({ displayName: 'Sales', members: [] });
		const sales2 = emu.addGroup({ displayName: 'SALES', members: [] });
		emu.addGroup({ displayName: 'Sales EMEA', members: [] });

		const filter = (f: string, extra = ''): Promise<Reply> =>
			graph(app, `/v1.0/groups?$filter=${encodeURIComponent(f)}${extra}`);
		const one = await filter("displayName eq 'O''Brien Team'", '&$select=id,displayName');
		expect(one.status).toBe(200);
		expect(one.body.value).toEqual([{ id: obrien.id, displayName: "O'Brien Team" }]);

		const two = await filter("displayName eq 'sales'");
		expect(asArray(two.body.value).map((g) => asRecord(g).id)).toEqual([sales.id, sales2.id]);
		expect(asRecord(asArray(two.body.value)[0])).toMatchObject({
			securityEnabled: true,
			displayName: 'Sales',
		});

		expect((await filter("displayName eq 'Nobody'")).body.value).toEqual([]);
		const unsupported = await filter("startswith(displayName,'Sal')");
		expect(unsupported.status).toBe(400);
		expect(graphError(unsupported).code).toBe('Request_UnsupportedQuery');

		const got = await graph(app, `/v1.0/groups/${sales.id}?$select=displayName`);
		expect(got.body).toMatchObject({ displayName: 'Sales' });
		expect(got.body.id).toBeUndefined();
		expect(asArray((await graph(app, '/v1.0/groups')).body.value)).toHaveLength(4);
	});
});

describe('GET /users', () => {
	const eventual = { ConsistencyLevel: 'eventual' };

	it('lists with $top, $select and paging', async () => {
		const first = await graph(app, '/v1.0/users');
		expect(asArray(first.body.value)).toHaveLength(30);
		expect(first.body['@odata.nextLink']).toBeUndefined();
		expect(asRecord(asArray(first.body.value)[0])).toMatchObject({
			id: emu.users[0].id,
			displayName: 'User 1',
			userPrincipalName: 'user1@contoso.test',
		});

		const ids: string[] = [];
		let next: string | undefined = '/beta/users?$top=8&$select=id,displayName';
		while (next !== undefined) {
			const res = await graph(app, next);
			expect(res.status).toBe(200);
			for (const row of asArray(res.body.value).map(asRecord)) {
				expect(Object.keys(row).sort()).toEqual(['displayName', 'id']);
				ids.push(str(row.id));
			}
			next =
				typeof res.body['@odata.nextLink'] === 'string' ? res.body['@odata.nextLink'] : undefined;
			if (next !== undefined) expect(next.startsWith(`${emu.url}/beta/users?`)).toBe(true);
		}
		expect(ids).toEqual(emu.users.map((u) => u.id));
		expect((await graph(app, '/v1.0/users?$top=1000')).status).toBe(400);
	});

	it('$search needs ConsistencyLevel: eventual', async () => {
		const res = await graph(
			app,
			`/v1.0/users?$search=${encodeURIComponent('"displayName:User 1"')}`,
		);
		expect(res.status).toBe(400);
		expect(graphError(res)).toEqual({
			code: 'Request_UnsupportedQuery',
			message:
				"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
		});
		expect((await graph(app, '/v1.0/users?$count=true')).status).toBe(400);
	});

	it('$search: displayName / mail / userPrincipalName, OR, case-insensitive, $count, $orderby, paging keeps the query', async () => {
		const search = (q: string, extra = ''): Promise<Reply> =>
			graph(me, `/v1.0/users?$search=${encodeURIComponent(q)}${extra}`, { headers: eventual });
		const names = (res: Reply): string[] =>
			asArray(res.body.value).map((r) => str(asRecord(r).displayName));

		const single = await search('"displayName:user 1"', '&$count=true');
		expect(single.status).toBe(200);
		expect(single.body['@odata.count']).toBe(11);
		expect(names(single)).toEqual([
			'User 1',
			...Array.from({ length: 10 }, (_, i) => `User ${10 + i}`),
		]);

		const either = await search(
			'"displayName:User 3" OR "mail:USER7@"',
			'&$orderby=displayName desc&$select=displayName,mail',
		);
		expect(names(either)).toEqual(['User 7', 'User 30', 'User 3']);

		const upn = await search('"userPrincipalName:user25@contoso"');
		expect(names(upn)).toEqual(['User 25']);
		expect(names(await search('"displayName:nobody"'))).toEqual([]);
		expect((await search('displayName:User')).status).toBe(400);
		expect((await search('"surname:1"')).status).toBe(400);

		const firstPage = await search('"displayName:User 2"', '&$top=4&$count=true');
		expect(names(firstPage)).toEqual(['User 2', 'User 20', 'User 21', 'User 22']);
		expect(firstPage.body['@odata.count']).toBe(11);
		const nextLink = str(firstPage.body['@odata.nextLink']);
		expect(nextLink).toContain('$search=');
		const secondPage = await graph(me, nextLink, { headers: eventual });
		expect(names(secondPage)).toEqual(['User 23', 'User 24', 'User 25', 'User 26']);
		// The next link carries $search, so it needs the header too.
		expect((await graph(me, nextLink)).status).toBe(400);
		expect(emu.requests('/v1.0/users').length).toBeGreaterThanOrEqual(9);
	});
});
