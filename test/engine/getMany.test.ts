import type { IPairedItemData } from 'n8n-workflow';

import type { GraphEmulator } from '../emulator';
import type { HarnessCredential } from '../harness';
import {
	appSecretCredential,
	findSecrets,
	registerApp,
	runPresence,
	secretsOf,
	type TestApp,
	useEmulator,
} from './support';
import { overlappingAsks } from '../shared/overlappingAsks';

let emu: GraphEmulator;
let app: TestApp;
let credentials: Record<string, HarnessCredential>;

useEmulator(
	{
		seed: 7,
		users: 12_000,
		clientId: 'aaaaaaaa-0000-4000-8000-000000000001',
		credentials: ['app'],
		throttle: { limit: 1500, windowMs: 30_000 },
	},
	(started) => ({ emu, app, credentials } = started),
);

const pairedItems = (paired: unknown): number[] =>
	(Array.isArray(paired) ? (paired as IPairedItemData[]) : [paired as IPairedItemData])
		.map((p) => p.item)
		.sort((a, b) => a - b);

const getMany = (
	items: Array<Record<string, unknown>>,
	extra: Record<string, unknown> = {},
	continueOnFail = false,
	withCredentials = credentials,
) =>
	runPresence({
		items,
		parameters: { operation: 'getMany', userIds: '={{ $json.ids }}', ...extra },
		authentication: 'application',
		credentialId: 'app',
		continueOnFail,
		credentials: withCredentials,
	});

describe("Get Many through n8n's engine", () => {
	it('2,000 ids over 300 items with duplicates in other case: 4 requests, one item per id, every asker paired', async () => {
		const { items, askers } = overlappingAsks(emu.users.slice(0, 2000).map((user) => user.id));
		expect(askers.size).toBe(2000);
		expect([...askers.values()].some((set) => set.size > 1)).toBe(true);

		const result = await getMany(items);
		expect(result.error).toBeUndefined();

		const calls = emu.requests('/communications/getPresencesByUserId');
		expect(calls).toHaveLength(4);
		for (const call of calls) {
			const body = call.body as { ids: string[] };
			expect(body.ids.length).toBeLessThanOrEqual(650);
		}
		const sent = calls.flatMap((call) => (call.body as { ids: string[] }).ids);
		expect(new Set(sent).size).toBe(2000);
		expect(sent).toHaveLength(2000);

		const output = result.output('Presence');
		expect(output).toHaveLength(2000);
		const seen = new Set<string>();
		for (const item of output) {
			const id = String(item.json.id);
			expect(seen.has(id)).toBe(false);
			seen.add(id);
			expect(item.json.availability).toBe(emu.getUser(id)?.presence.availability);
			expect(pairedItems(item.pairedItem)).toEqual([...askers.get(id)!].sort((a, b) => a - b));
		}
	});

	it('marks ids Graph does not know as not found, and resolves UPNs in bulk through $batch', async () => {
		const unknown = '99999999-9999-4999-8999-999999999999';
		const users = emu.users.slice(0, 45);
		const result = await getMany([
			{ ids: [users[0].id, unknown] },
			{
				ids: users
					.slice(1, 45)
					.map((user) => user.userPrincipalName.toUpperCase())
					.join('\n'),
			},
			{ ids: `${users[0].userPrincipalName}; nobody@contoso.test` },
		]);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output).toHaveLength(47);
		const byId = new Map(output.map((item) => [String(item.json.id), item]));
		expect(byId.get(unknown)?.json).toMatchObject({ notFound: true });
		expect(byId.get('nobody@contoso.test')?.json).toMatchObject({ notFound: true });
		// users[0] was asked for by GUID (item 0) and by UPN (item 2): one item, both paired.
		expect(pairedItems(byId.get(users[0].id)?.pairedItem)).toEqual([0, 2]);
		expect(byId.get(users[44].id)?.json.availability).toBe(users[44].presence.availability);
		// 46 names to look up, 20 per $batch → 3 batches; one presence request.
		expect(emu.requests('/$batch').filter((entry) => !entry.batchSubRequest)).toHaveLength(3);
		expect(emu.requests('/communications/getPresencesByUserId')).toHaveLength(1);
	});

	it('simplifies on request', async () => {
		const user = emu.users[3];
		const result = await getMany([{ ids: user.id }], { options: { simplify: true } });
		expect(result.output('Presence')[0].json).toEqual({
			id: user.id,
			availability: user.presence.availability,
			activity: user.presence.activity,
			statusMessage: null,
			isOutOfOffice: false,
			outOfOfficeMessage: null,
			workLocation: 'unspecified',
			sequenceNumber: user.presence.sequenceNumber,
		});
	});

	it('a malformed id fails before anything is sent, naming the item and the value', async () => {
		const result = await getMany([
			{ ids: emu.users[0].id },
			{ ids: `${emu.users[1].id}, 1234-not-a-guid` },
		]);
		expect(result.error?.message).toContain('Item 1');
		expect(result.error?.message).toContain('"1234-not-a-guid"');
		expect(emu.log.filter((entry) => !entry.path.startsWith('/login'))).toHaveLength(0);
	});

	it('a value that is neither text nor list is named too', async () => {
		const result = await getMany([{ ids: 42 }]);
		expect(result.error?.message).toContain('Item 0');
		expect(result.error?.message).toContain('number 42');
	});

	it('with Continue On Fail, a bad input yields one error item and the others still get their presences', async () => {
		const good = emu.users.slice(0, 3).map((user) => user.id);
		const result = await getMany(
			[{ ids: good[0] }, { ids: '' }, { ids: [good[1], good[2]] }],
			{},
			true,
		);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		const errors = output.filter((item) => item.json.error);
		expect(errors).toHaveLength(1);
		expect(pairedItems(errors[0].pairedItem)).toEqual([1]);
		expect(JSON.stringify(errors[0].json.error)).toContain('No user ID given');
		expect(output.filter((item) => !item.json.error).map((item) => item.json.id)).toEqual(good);
	});

	it('completes with every id while the emulator throttles hard (429 with Retry-After in both forms)', async () => {
		emu.throttle = { limit: 3, windowMs: 1500 };
		emu.retryAfterFormat = 'alternate';
		const ids = emu.users.slice(0, 6500).map((user) => user.id);
		const result = await getMany([{ ids }], { options: { maxRetries: 10 } });
		expect(result.error).toBeUndefined();
		expect(emu.log.filter((entry) => entry.status === 429).length).toBeGreaterThan(0);
		const output = result.output('Presence');
		expect(output.map((item) => item.json.id).sort()).toEqual([...ids].sort());
		emu.retryAfterFormat = 'seconds';
	});

	/**
	 * The credential of an app of its own: the process's limiter for an app remembers the 429s of earlier
	 * tests (its share, its probe backoff), so a test that times throttling starts from a fresh one.
	 */
	const ownApp = async (clientId: string): Promise<Record<string, HarnessCredential>> => ({
		app: appSecretCredential(emu, await registerApp(emu, clientId)),
	});

	it('a 429 storm (every attempt refused, Retry-After 1 s) until each request was refused 6 times: every presence at the defaults', async () => {
		const own = await ownApp('aaaaaaaa-0000-4000-8000-000000000011');
		emu.faults = { rate429: 1, retryAfterSeconds: 1 };
		const refusals = (): Map<string, number[]> => {
			const byRequest = new Map<string, number[]>();
			for (const call of emu.requests('/communications/getPresencesByUserId')) {
				const key = (call.body as { ids: string[] }).ids.join(',');
				byRequest.set(key, [...(byRequest.get(key) ?? []), call.status]);
			}
			return byRequest;
		};
		// The storm ends once all 3 requests were refused more often than Max Retries (5) allows for faults
		// (3 requests: their 21 attempts fit the share of the budget a process keeps during a storm, 30 per
		// 30 s; more would time the rate limiter's recovery, which test/chaos reports).
		const watch = setInterval(() => {
			const byRequest = refusals();
			if (byRequest.size === 3 && [...byRequest.values()].every((statuses) => statuses.length >= 6))
				emu.faults = {};
		}, 50);
		const started = Date.now();
		try {
			const ids = emu.users.slice(0, 1950).map((user) => user.id);
			const result = await getMany([{ ids }], {}, false, own);
			const tookMs = Date.now() - started;
			expect(result.error).toBeUndefined();
			const output = result.output('Presence');
			expect(output).toHaveLength(1950);
			expect(new Set(output.map((item) => item.json.id))).toEqual(new Set(ids));
			expect(output.every((item) => typeof item.json.availability === 'string')).toBe(true);
			const byRequest = refusals();
			expect(byRequest.size).toBe(3);
			for (const statuses of byRequest.values()) {
				expect(statuses.slice(0, 6)).toEqual([429, 429, 429, 429, 429, 429]);
				expect(statuses.at(-1)).toBe(200);
			}
			console.log(
				`429 storm: 3 requests refused 6 times or more each, every presence back in ${(tookMs / 1000).toFixed(1)} s (${emu.requests('/communications/getPresencesByUserId').length} attempts)`,
			);
		} finally {
			clearInterval(watch);
		}
	});

	it('a throttle budget that runs out fails the run with an error naming Max Throttle Wait', async () => {
		const own = await ownApp('aaaaaaaa-0000-4000-8000-000000000012');
		emu.faults = { rate429: 1, retryAfterSeconds: 1 };
		const ids = emu.users.slice(0, 10).map((user) => user.id);
		const started = Date.now();
		// 3 s of throttling; Max Retries 0 shows that the count does not apply to throttling.
		const result = await getMany(
			[{ ids }],
			{ options: { maxThrottleWaitMinutes: 0.05, maxRetries: 0 } },
			false,
			own,
		);
		const tookMs = Date.now() - started;
		expect(result.error?.message).toContain('Microsoft Graph kept throttling this execution');
		expect(result.error?.message).toContain('Max Throttle Wait (Minutes) = 0.05');
		expect(result.error?.description).toContain('Max Throttle Wait (Minutes)');
		// Retried as Graph asked (1 s each) while 3 s lasted (two or three retries, by how long each took),
		// then it stops at once rather than wait out a wait it cannot afford.
		const calls = emu.requests('/communications/getPresencesByUserId');
		expect(calls.every((call) => call.status === 429)).toBe(true);
		expect(calls.length).toBeGreaterThanOrEqual(3);
		expect(calls.length).toBeLessThanOrEqual(4);
		expect(tookMs).toBeLessThan(5000);
	});

	it('20 % 429, 10 % 503 and 5 % resets over 10,000 ids: every id exactly once', async () => {
		emu.faults = { rate429: 0.2, rate503: 0.1, rateReset: 0.05, retryAfterSeconds: 1 };
		const ids = emu.users.slice(0, 10_000).map((user) => user.id);
		const items = Array.from({ length: 100 }, (_, i) => ({
			ids: ids.slice(i * 100, i * 100 + 100),
		}));
		const result = await getMany(items, { options: { maxRetries: 10, maxRetryWaitSeconds: 2 } });
		expect(result.error).toBeUndefined();
		const faults = emu.log.filter((entry) => entry.fault);
		expect(faults.length).toBeGreaterThan(0);
		const output = result.output('Presence');
		expect(output).toHaveLength(10_000);
		expect(new Set(output.map((item) => item.json.id))).toEqual(new Set(ids));
		expect(output.every((item) => item.json.availability)).toBe(true);
	});

	it('keeps secrets out of output, errors and logs', async () => {
		const result = await getMany(
			[{ ids: emu.users.slice(0, 5).map((user) => user.id) }, { ids: 'bad' }],
			{},
			true,
		);
		const secrets = secretsOf(emu, app);
		expect(secrets.length).toBeGreaterThan(2);
		expect(findSecrets(result.output('Presence'), secrets)).toEqual([]);
		expect(findSecrets(result.logs.join('\n'), secrets)).toEqual([]);
	});

	it('retries answers that are unreadable, cut short or slower than the timeout', async () => {
		emu.faults = { rateMalformedJson: 0.15, rateTruncated: 0.15, rateSlow: 0.1, slowMs: 2500 };
		// Seed 3 draws all three kinds among its first ten requests, whatever earlier tests asked.
		emu.seedFaults(3);
		const ids = emu.users.slice(0, 6500).map((user) => user.id);
		const result = await getMany([{ ids }], {
			options: { maxRetries: 10, maxRetryWaitSeconds: 1, timeoutSeconds: 1 },
		});
		expect(result.error).toBeUndefined();
		const kinds = new Set(emu.log.map((entry) => entry.fault).filter((fault) => fault));
		expect(kinds).toEqual(new Set(['malformedJson', 'truncated', 'slow']));
		const output = result.output('Presence');
		expect(output).toHaveLength(6500);
		expect(output.every((item) => typeof item.json.availability === 'string')).toBe(true);
	});

	it('gives up after Max Retries with a clear error, and with Continue On Fail marks exactly those users', async () => {
		// A 503 that names no wait is a fault, counted against Max Retries (with Retry-After it is throttling).
		emu.faults = { rate503: 1 };
		emu.retryAfterFormat = 'none';
		const ids = emu.users.slice(0, 700).map((user) => user.id);
		// A slow answer of the test before can be logged after it ended: only this run's requests count.
		const since = Date.now();
		const failing = await getMany([{ ids }], { options: { maxRetries: 1 } });
		expect(failing.error?.message).toContain('Microsoft Graph answered 503');
		expect(
			emu.requests('/communications/getPresencesByUserId').filter((entry) => entry.time >= since),
		).toHaveLength(4);

		emu.clearLog();
		const result = await getMany(
			[{ ids: ids.slice(0, 2) }, { ids: ids.slice(2) }],
			{ options: { maxRetries: 0 } },
			true,
		);
		expect(result.error).toBeUndefined();
		const output = result.output('Presence');
		expect(output).toHaveLength(700);
		expect(
			output.every(
				(item) => (item.json.error as { httpCode?: string } | undefined)?.httpCode === '503',
			),
		).toBe(true);
		expect(output[0].json.id).toBe(ids[0]);
		expect(pairedItems(output[0].pairedItem)).toEqual([0]);
		expect(pairedItems(output[699].pairedItem)).toEqual([1]);
	});

	it('stops sending within a second of the execution being cancelled', async () => {
		emu.latencyMs = 300;
		emu.throttle = { limit: 4, windowMs: 60_000 };
		const ids = emu.users.slice(0, 10_000).map((user) => user.id);
		const controller = new AbortController();
		const started = Date.now();
		const running = runPresence({
			items: [{ ids }],
			parameters: {
				operation: 'getMany',
				userIds: '={{ $json.ids }}',
				options: { concurrency: 2 },
			},
			authentication: 'application',
			credentialId: 'app',
			credentials,
			signal: controller.signal,
		});
		await new Promise((resolve) => setTimeout(resolve, 1500));
		controller.abort();
		const abortedAt = Date.now();
		const result = await running;
		emu.latencyMs = 0;
		expect(Date.now() - abortedAt).toBeLessThan(1500);
		expect(Date.now() - started).toBeLessThan(5000);
		expect(result.error).toBeDefined();
		const late = emu.log.filter((entry) => entry.time > abortedAt + 1000);
		expect(late).toHaveLength(0);
		expect(emu.requests('/communications/getPresencesByUserId').length).toBeLessThan(16);
	});
});
