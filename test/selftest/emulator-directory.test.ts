import { asArray, asRecord, str } from '../shared/json';
import {
	emulatorClient,
	registerClient,
	TENANT,
	CLIENT,
	SECRET,
	type Reply,
} from '../shared/emulatorClient';
import { GraphEmulator, MAX_FILTER_EXPRESSIONS, parseUserFilter } from '../emulator';

/**
 * The emulator's directory as Graph documents it: e-mail addresses are not keys of /users/{id}, `$filter` finds
 * them (mail, proxyAddresses) within the documented value limit, and $batch sub-requests are throttled one by one.
 */

type Answer = Reply;

let emu: GraphEmulator;
let app: string;
const client = emulatorClient(() => emu);
const call = (url: string, init: RequestInit = {}) =>
	fetch(url, init).then(async (res) => {
		const text = await res.text();
		return {
			status: res.status,
			headers: res.headers,
			text,
			body: text ? asRecord(JSON.parse(text)) : {},
		};
	});

/** A user's token with these delegated scopes, through the authorization code flow. */
async function delegated(scope: string): Promise<string> {
	const redirect = 'http://localhost/callback';
	const authorize = await fetch(
		`${emu.loginBaseUrl}/${TENANT}/oauth2/v2.0/authorize?client_id=${CLIENT}&response_type=code&redirect_uri=${encodeURIComponent(redirect)}&scope=${encodeURIComponent(scope)}`,
		{ redirect: 'manual' },
	);
	const code = new URL(authorize.headers.get('location') ?? '').searchParams.get('code') ?? '';
	const res = await client.tokenRequest({
		grant_type: 'authorization_code',
		code,
		redirect_uri: redirect,
		scope,
		client_id: CLIENT,
		client_secret: SECRET,
	});
	return str(res.body.access_token);
}

function graph(path: string, bearer = app, body?: unknown): Promise<Answer> {
	return client.graph(bearer, path, body === undefined ? {} : { body });
}

const users = (answer: Answer) =>
	asArray(answer.body.value).map((entry) => str(asRecord(entry).id));
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
const filterPath = (filter: string, select = 'id,mail,userPrincipalName') =>
	`/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=${select}`;

beforeAll(async () => {
	emu = await GraphEmulator.start({ seed: 3, throttle: false });
	emu.addUsers(40);
	registerClient(emu);
	app = await client.appToken();
});
afterAll(async () => await emu.stop());

describe('addresses in the directory', () => {
	it('gives most users a mail on another domain than the UPN, and aliases in proxyAddresses', () => {
		const differs = emu.users.filter((user) => user.mail !== user.userPrincipalName);
		expect(differs.length).toBe(32);
		expect(emu.users[0]).toMatchObject({
			userPrincipalName: 'user1@contoso.test',
			mail: 'user1@contoso.example',
			proxyAddresses: ['SMTP:user1@contoso.example', 'smtp:user1@contoso.test'],
		});
		expect(emu.users[2].proxyAddresses).toEqual([
			'SMTP:user3@contoso.test',
			'smtp:alias3@sales.contoso.example',
		]);
	});

	it('answers /users/{mail} with 404, as user-get takes only the object id or the UPN', async () => {
		const user = emu.users[0];
		expect((await graph(`/v1.0/users/${encodeURIComponent(user.mail)}`)).status).toBe(404);
		const byUpn = await graph(
			`/v1.0/users/${encodeURIComponent(user.userPrincipalName)}?$select=id`,
		);
		expect(byUpn.body).toMatchObject({ id: user.id });
		// proxyAddresses come only on $select, as on Graph.
		const full = await graph(`/v1.0/users/${user.id}`);
		expect(full.body.proxyAddresses).toBeUndefined();
		const selected = await graph(`/v1.0/users/${user.id}?$select=id,proxyAddresses`);
		expect(selected.body.proxyAddresses).toEqual(user.proxyAddresses);
	});
});

describe('$filter on /users', () => {
	it('finds users by userPrincipalName, mail and id with in / eq, in any case, joined by or', async () => {
		const [a, b, c, d] = emu.users;
		const answer = await graph(
			filterPath(
				`userPrincipalName in (${quote(a.userPrincipalName.toUpperCase())}, ${quote(b.mail)}) or mail in (${quote(b.mail.toUpperCase())}) or id eq ${quote(c.id)} or mail eq ${quote(d.mail)}`,
			),
		);
		expect(answer.status).toBe(200);
		// b's mail is not its UPN: only the mail clause finds it.
		expect(users(answer).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
		expect(asRecord(asArray(answer.body.value)[0])).toEqual({
			id: a.id,
			mail: a.mail,
			userPrincipalName: a.userPrincipalName,
		});
		const none = await graph(filterPath(`mail in ('nobody@contoso.example')`));
		expect(users(none)).toEqual([]);
	});

	it('finds an alias with proxyAddresses/any, and two users that share an address both', async () => {
		const shared = 'frontdesk@contoso.example';
		const [x, y] = [emu.users[20], emu.users[21]];
		emu.updateUser(x.id, { proxyAddresses: [...x.proxyAddresses, `smtp:${shared}`] });
		emu.updateUser(y.id, { mail: shared, proxyAddresses: [`SMTP:${shared}`] });
		const alias = await graph(
			filterPath(`proxyAddresses/any(p:p eq 'smtp:ALIAS3@sales.contoso.example')`),
		);
		expect(users(alias)).toEqual([emu.users[2].id]);
		const both = await graph(filterPath(`proxyAddresses/any(x:x eq ${quote(`smtp:${shared}`)})`));
		expect(users(both).sort()).toEqual([x.id, y.id].sort());
		expect(users(await graph(filterPath(`mail eq ${quote(shared)}`)))).toEqual([y.id]);
	});

	it('refuses more than 15 values with 400, as Graph limits the in operator', async () => {
		const values = emu.users.slice(0, MAX_FILTER_EXPRESSIONS + 1).map((user) => quote(user.mail));
		const fifteen = await graph(filterPath(`mail in (${values.slice(0, 15).join(',')})`));
		expect(fifteen.status).toBe(200);
		expect(users(fifteen)).toHaveLength(15);
		const sixteen = await graph(filterPath(`mail in (${values.join(',')})`));
		expect(sixteen.status).toBe(400);
		expect(asRecord(sixteen.body.error)).toMatchObject({ code: 'Request_UnsupportedQuery' });
		expect(str(asRecord(sixteen.body.error).message)).toContain('Max allowed: 15');
		// Values count across clauses, whichever operator compares them.
		const mixed = await graph(
			filterPath(
				`userPrincipalName in (${values.slice(0, 8).join(',')}) or mail in (${values.slice(8).join(',')})`,
			),
		);
		expect(mixed.status).toBe(400);
	});

	it('finds nobody by alias for a delegated token that reads only basic profiles', async () => {
		const alias = filterPath(`proxyAddresses/any(p:p eq 'smtp:alias3@sales.contoso.example')`);
		const basic = await delegated('openid offline_access Presence.Read.All User.ReadBasic.All');
		expect((await graph(alias, basic)).status).toBe(200);
		expect(users(await graph(alias, basic))).toEqual([]);
		expect(users(await graph(filterPath(`mail eq ${quote(emu.users[5].mail)}`), basic))).toEqual([
			emu.users[5].id,
		]);
		const full = await delegated('openid User.Read.All');
		expect(users(await graph(alias, full))).toEqual([emu.users[2].id]);
	});

	it('parses only the shapes it models, and says so for others', () => {
		expect(
			parseUserFilter(`mail in ('a@x.test', 'O''Brien@x.test') or userPrincipalName eq 'b@x.test'`),
		).toEqual([
			{ property: 'mail', values: ['a@x.test', "O'Brien@x.test"] },
			{ property: 'userPrincipalName', values: ['b@x.test'] },
		]);
		expect(parseUserFilter(`startswith(mail,'a')`)).toEqual(expect.stringContaining('Unsupported'));
		expect(parseUserFilter(`mail eq 'a' and id eq 'b'`)).toEqual(expect.stringContaining('Syntax'));
	});
});

describe('$batch sub-requests and the throttle', () => {
	it('throttles sub-requests one by one, each 429 with its own Retry-After inside the answer', async () => {
		emu.throttle = { limit: 5, windowMs: 60_000 };
		try {
			const requests = emu.users.slice(0, 8).map((user, index) => ({
				id: String(index),
				method: 'GET',
				url: `/users?$filter=${encodeURIComponent(`id eq ${quote(user.id)}`)}&$select=id`,
			}));
			const answer = await graph('/v1.0/$batch', app, { requests });
			expect(answer.status).toBe(200);
			const responses = asArray(answer.body.responses).map(asRecord);
			const throttled = responses.filter((entry) => entry.status === 429);
			expect(responses.filter((entry) => entry.status === 200)).toHaveLength(5);
			expect(throttled).toHaveLength(3);
			for (const entry of throttled) {
				expect(Number(asRecord(entry.headers)['Retry-After'])).toBeGreaterThan(0);
				expect(asRecord(asRecord(entry.body).error).code).toBe('TooManyRequests');
			}
		} finally {
			emu.throttle = false;
		}
	});

	it('counts users with $count and lists them 999 a page', async () => {
		const counted = await call(`${emu.url}/v1.0/users?$count=true&$top=1&$select=id`, {
			headers: { Authorization: `Bearer ${app}`, ConsistencyLevel: 'eventual' },
		});
		expect(counted.body['@odata.count']).toBe(40);
		const listed = await graph('/v1.0/users?$top=999&$select=id,displayName');
		expect(users(listed)).toHaveLength(40);
		expect(listed.body['@odata.nextLink']).toBeUndefined();
	});
});

describe('setUserPreferredPresence as documented', () => {
	it('applies 1 day for Busy and DoNotDisturb and 7 days otherwise, and takes durations past 4 hours', async () => {
		const expiry = async (availability: string, activity: string, duration?: string) => {
			const user = emu.users[30];
			const answer = await call(
				`${emu.url}/v1.0/users/${user.id}/presence/setUserPreferredPresence`,
				{
					method: 'POST',
					headers: { Authorization: `Bearer ${app}`, 'Content-Type': 'application/json' },
					body: JSON.stringify({
						availability,
						activity,
						...(duration === undefined ? {} : { expirationDuration: duration }),
					}),
				},
			);
			expect(answer.status).toBe(200);
			const preferred = emu.preferredPresence(user.id);
			return (
				(Date.parse(preferred?.expiryDateTime ?? '') - Date.parse(preferred?.setDateTime ?? '')) /
				3_600_000
			);
		};
		expect(await expiry('Busy', 'Busy')).toBe(24);
		expect(await expiry('DoNotDisturb', 'DoNotDisturb')).toBe(24);
		expect(await expiry('Away', 'Away')).toBe(7 * 24);
		expect(await expiry('Offline', 'OffWork')).toBe(7 * 24);
		expect(await expiry('Available', 'Available', 'PT8H')).toBe(8);
		expect(await expiry('Available', 'Available', 'P3D')).toBe(72);
	});
});
