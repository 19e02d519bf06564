import { parseRetryAfter } from '../../nodes/shared/throttle/retryAfter';
import { decideRetry, retryPolicy } from '../../nodes/shared/throttle/retryPolicy';

const now = Date.parse('2026-11-24T10:00:00Z');

describe('parseRetryAfter', () => {
	it('reads delta seconds', () => {
		expect(parseRetryAfter('3', now)).toBe(3000);
		expect(parseRetryAfter(' 0 ', now)).toBe(0);
		expect(parseRetryAfter('1.5', now)).toBe(1500);
	});
	it('reads an HTTP date, never negative', () => {
		expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:07 GMT', now)).toBe(7000);
		expect(parseRetryAfter('Tue, 24 Nov 2026 09:59:00 GMT', now)).toBe(0);
	});
	it('gives undefined for absent or unreadable values', () => {
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
		expect(parseRetryAfter('', now)).toBeUndefined();
		expect(parseRetryAfter('soon', now)).toBeUndefined();
		expect(parseRetryAfter('-5', now)).toBeUndefined();
	});
});

describe('decideRetry', () => {
	const policy = retryPolicy(3, 10);

	it('retries 429, 503, 504 and dropped connections, nothing else', () => {
		for (const status of [429, 503, 504])
			expect(decideRetry({ kind: 'status', status }, 0, policy, now, 0).retry).toBe(true);
		expect(decideRetry({ kind: 'transport' }, 0, policy, now, 0).retry).toBe(true);
		for (const status of [400, 401, 403, 404, 500, 502])
			expect(decideRetry({ kind: 'status', status }, 0, policy, now, 0).retry).toBe(false);
	});

	it('obeys Retry-After in both forms, capped', () => {
		expect(
			decideRetry({ kind: 'status', status: 429, retryAfter: '4' }, 0, policy, now, 0.9),
		).toEqual({ retry: true, delayMs: 4000, fromRetryAfter: true });
		expect(
			decideRetry(
				{ kind: 'status', status: 429, retryAfter: 'Tue, 24 Nov 2026 10:00:05 GMT' },
				2,
				policy,
				now,
				0.9,
			),
		).toEqual({ retry: true, delayMs: 5000, fromRetryAfter: true });
		expect(
			decideRetry({ kind: 'status', status: 503, retryAfter: '600' }, 0, policy, now, 0),
		).toEqual({ retry: true, delayMs: 10_000, fromRetryAfter: true });
	});

	it('backs off exponentially with jitter when Graph says nothing', () => {
		expect(decideRetry({ kind: 'status', status: 503 }, 0, policy, now, 0)).toEqual({
			retry: true,
			delayMs: 1000,
			fromRetryAfter: false,
		});
		expect(decideRetry({ kind: 'status', status: 503 }, 1, policy, now, 0.5)).toEqual({
			retry: true,
			delayMs: 2500,
			fromRetryAfter: false,
		});
		expect(decideRetry({ kind: 'transport' }, 2, policy, now, 0.25)).toEqual({
			retry: true,
			delayMs: 4250,
			fromRetryAfter: false,
		});
	});

	it('stops after the last retry', () => {
		expect(
			decideRetry({ kind: 'status', status: 429, retryAfter: '1' }, 3, policy, now, 0),
		).toEqual({ retry: false });
	});
});
