import {
	cronIntervalMs,
	pollIntervalMs,
	SHORTEST_POLL_MS,
} from '../../nodes/MicrosoftGraphPresenceTrigger/pollInterval';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const times = (...item: Array<Record<string, unknown>>) => ({ item });

describe("pollIntervalMs: the shortest time between polls, from n8n's Poll Times", () => {
	it.each([
		['every minute', times({ mode: 'everyMinute' }), MINUTE],
		['every hour', times({ mode: 'everyHour', minute: 5 }), HOUR],
		['every day', times({ mode: 'everyDay', hour: 9, minute: 0 }), DAY],
		['every week', times({ mode: 'everyWeek', hour: 9, minute: 0, weekday: 1 }), 7 * DAY],
		['every month', times({ mode: 'everyMonth', hour: 9, minute: 0, dayOfMonth: 31 }), 28 * DAY],
		['every 5 minutes', times({ mode: 'everyX', value: 5, unit: 'minutes' }), 5 * MINUTE],
		// */45 fires at :00 and :45, so the gap from :45 to the next :00 is 15 minutes.
		['every 45 minutes', times({ mode: 'everyX', value: 45, unit: 'minutes' }), 15 * MINUTE],
		['every 90 minutes (only :00)', times({ mode: 'everyX', value: 90, unit: 'minutes' }), HOUR],
		['every 2 hours', times({ mode: 'everyX', value: 2, unit: 'hours' }), 2 * HOUR],
		[
			'every 5 hours (20:00 to 00:00)',
			times({ mode: 'everyX', value: 5, unit: 'hours' }),
			4 * HOUR,
		],
		[
			'several entries: the shortest',
			times(
				{ mode: 'everyDay', hour: 9, minute: 0 },
				{ mode: 'everyX', value: 10, unit: 'minutes' },
			),
			10 * MINUTE,
		],
		['custom cron', times({ mode: 'custom', cronExpression: '0 */15 * * * *' }), 15 * MINUTE],
	])('%s', (_name, pollTimes, expected) => {
		expect(pollIntervalMs(pollTimes)).toBe(expected);
	});

	it("n8n's default (no Poll Times) and anything unreadable count as a minute, the shortest n8n allows", () => {
		expect(pollIntervalMs({})).toBe(SHORTEST_POLL_MS);
		expect(pollIntervalMs(undefined)).toBe(SHORTEST_POLL_MS);
		expect(pollIntervalMs(times())).toBe(SHORTEST_POLL_MS);
		expect(pollIntervalMs(times({ mode: 'everyX', value: 'x', unit: 'minutes' }))).toBe(
			SHORTEST_POLL_MS,
		);
		expect(pollIntervalMs(times({ mode: 'somethingNew' }))).toBe(SHORTEST_POLL_MS);
	});
});

describe('cronIntervalMs', () => {
	it.each([
		['0 9 * * *', DAY],
		['0 9,17 * * *', 8 * HOUR],
		['30 8-18/2 * * 1-5', 2 * HOUR],
		['0 0 9 * * MON-FRI', DAY],
		['0 0,30 * * * *', 30 * MINUTE],
		['15 10 */3 * * *', 3 * HOUR],
		['*/20 * * * *', 20 * MINUTE],
		// Hours 0 and 20: from 20:00 to midnight is 4 hours.
		['0 */20 * * *', 4 * HOUR],
	])('%s', (expression, expected) => {
		expect(cronIntervalMs(expression)).toBe(expected);
	});

	it('what it cannot read counts as a minute', () => {
		for (const expression of ['', '* *', '0 L * * *', '0 9 * * * * *', '0 61 * * *', 'a b c d e'])
			expect(cronIntervalMs(expression)).toBe(SHORTEST_POLL_MS);
	});
});
