import { generateKeyPairSync } from 'crypto';

import { encryptResource } from '../emulator';
import {
	checkNotificationUrl,
	decryptContent,
	expiryFrom,
	needsRenewal,
	newClientState,
	plannedResources,
	presenceResource,
	readNotifications,
	sameResource,
	sameSecret,
} from '../../nodes/shared/notifications/notifications';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('subscription resources', () => {
	it('quotes ids in the filter form and uses the single form for one user', () => {
		expect(presenceResource([id(1)])).toBe(`/communications/presences/${id(1)}`);
		expect(presenceResource([id(1), id(2)])).toBe(
			`/communications/presences?$filter=id in ('${id(1)}','${id(2)}')`,
		);
	});
	it('plans at most 650 ids a subscription, sorted and de-duplicated, so the plan is stable', () => {
		const ids = Array.from({ length: 1400 }, (_, i) => id(1400 - i));
		const plan = plannedResources([...ids, id(5).toUpperCase()]);
		expect(plan).toHaveLength(3);
		expect(plan[0]).toContain(`'${id(1)}'`);
		expect(plannedResources([...ids].reverse())).toEqual(plan);
		expect(plan.map((resource) => (resource.match(/'/g) ?? []).length / 2)).toEqual([
			650, 650, 100,
		]);
	});
	it('compares resources as Graph echoes them', () => {
		expect(
			sameResource(
				`/communications/presences/${id(1)}`,
				`communications/presences/${id(1).toUpperCase()}`,
			),
		).toBe(true);
		expect(sameResource(presenceResource([id(1), id(2)]), presenceResource([id(1), id(3)]))).toBe(
			false,
		);
	});
});

describe('renewal', () => {
	it('asks for 55 minutes and renews with less than 20 left', () => {
		const now = Date.parse('2026-11-24T10:00:00Z');
		expect(expiryFrom(now)).toBe('2026-11-24T10:55:00.000Z');
		expect(needsRenewal('2026-11-24T10:25:00Z', now)).toBe(false);
		expect(needsRenewal('2026-11-24T10:19:59Z', now)).toBe(true);
		expect(needsRenewal(undefined, now)).toBe(true);
	});
});

describe('webhook URL and secrets', () => {
	it('accepts https and loopback http only, with a clear message', () => {
		expect(checkNotificationUrl('https://n8n.example.com/webhook/x')).toEqual({ ok: true });
		expect(checkNotificationUrl('http://127.0.0.1:5678/webhook/x')).toEqual({ ok: true });
		expect(checkNotificationUrl('http://localhost:5678/webhook/x')).toEqual({ ok: true });
		const refused = checkNotificationUrl('http://n8n.internal:5678/webhook/x');
		expect(refused.ok).toBe(false);
		expect(!refused.ok && refused.message).toContain('only to HTTPS');
	});
	it('makes long random client states and compares them exactly', () => {
		const secret = newClientState();
		expect(secret.length).toBeGreaterThanOrEqual(64);
		expect(secret.length).toBeLessThanOrEqual(128);
		expect(newClientState()).not.toBe(secret);
		expect(sameSecret(secret, secret)).toBe(true);
		expect(sameSecret(secret, `${secret}x`)).toBe(false);
		expect(sameSecret(secret, undefined)).toBe(false);
	});
});

describe('notifications', () => {
	it('reads change and lifecycle notifications, taking the user from resourceData or the resource', () => {
		expect(
			readNotifications({
				value: [
					{ subscriptionId: 's1', clientState: 'c', resourceData: { id: id(7).toUpperCase() } },
					{
						subscriptionId: 's1',
						clientState: 'c',
						resource: `communications/presences('${id(8)}')`,
					},
					{ subscriptionId: 's1', clientState: 'c', lifecycleEvent: 'reauthorizationRequired' },
					{ clientState: 'c' },
				],
			}),
		).toEqual([
			{
				subscriptionId: 's1',
				clientState: 'c',
				lifecycleEvent: undefined,
				userId: id(7),
				encryptedContent: undefined,
			},
			{
				subscriptionId: 's1',
				clientState: 'c',
				lifecycleEvent: undefined,
				userId: id(8),
				encryptedContent: undefined,
			},
			{
				subscriptionId: 's1',
				clientState: 'c',
				lifecycleEvent: 'reauthorizationRequired',
				userId: undefined,
				encryptedContent: undefined,
			},
		]);
		expect(readNotifications('nope')).toBeUndefined();
	});

	it('decrypts rich content as Microsoft documents it and refuses a bad signature', () => {
		const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
		const presence = { id: id(9), availability: 'Busy', activity: 'InACall' };
		const certificate = { publicKey, thumbprint: 'AB' };
		expect(decryptContent(encryptResource(presence, certificate, 'cert-1'), pem)).toEqual(presence);
		expect(() =>
			decryptContent(encryptResource(presence, certificate, 'cert-1', true), pem),
		).toThrow('signature does not match');
	});
});
