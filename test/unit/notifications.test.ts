import { generateKeyPairSync } from 'crypto';

import { encryptResource } from '../emulator';
import {
	checkNotificationUrl,
	decryptContent,
	coversExactly,
	expiryFrom,
	isPresenceResource,
	needsRenewal,
	newClientState,
	presenceResource,
	readDelivery,
	resourceUsers,
	sameSecret,
	splitWatched,
} from '../../nodes/shared/notifications/notifications';

/** A notification as readDelivery gives it, before its user and event. */
const read = () => ({
	subscriptionId: 's1',
	clientState: 'c',
	tenantId: 't1',
	lifecycleEvent: undefined,
	userId: undefined,
	encryptedContent: undefined,
});
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('subscription resources', () => {
	it('quotes ids in the filter form and uses the single form for one user', () => {
		expect(presenceResource([id(1)])).toBe(`/communications/presences/${id(1)}`);
		expect(presenceResource([id(1), id(2)])).toBe(
			`/communications/presences?$filter=id in ('${id(1)}','${id(2)}')`,
		);
	});
	it('gives the first 650 watched users, in the order listed, the one subscription; the rest are polled', () => {
		const ids = Array.from({ length: 1400 }, (_, i) => id(1400 - i));
		const { instant, polled } = splitWatched(ids);
		expect(instant).toEqual(ids.slice(0, 650));
		expect(polled).toEqual(ids.slice(650));
		expect(splitWatched(ids.slice(0, 3))).toEqual({ instant: ids.slice(0, 3), polled: [] });
	});
	it('reads the users of a resource in the forms Graph may echo, and compares them as sets', () => {
		const echoed = `communications/presences?$filter=id in ('${id(2)}', '${id(1).toUpperCase()}')`;
		expect(resourceUsers(echoed)).toEqual(new Set([id(1), id(2)]));
		expect(resourceUsers(`communications/presences/${id(3).toUpperCase()}`)).toEqual(
			new Set([id(3)]),
		);
		expect(coversExactly(echoed, [id(1), id(2)])).toBe(true);
		expect(coversExactly(presenceResource([id(1), id(2)]), [id(2), id(1)])).toBe(true);
		expect(coversExactly(echoed, [id(1)])).toBe(false);
		expect(coversExactly(echoed, [id(1), id(2), id(3)])).toBe(false);
		expect(coversExactly('/me/messages', [id(1)])).toBe(false);
		expect(resourceUsers("communications/presences?$filter=id in ('not-a-guid')")).toBeUndefined();
		expect(isPresenceResource(echoed)).toBe(true);
		expect(isPresenceResource('/Communications/Presences/x')).toBe(true);
		expect(isPresenceResource('users/x/messages')).toBe(false);
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
	it('reads change and lifecycle notifications as documented: the user from resourceData, the resource or @odata.id; the validation tokens', () => {
		const notification = (fields: Record<string, unknown>) => ({
			subscriptionId: 's1',
			clientState: 'c',
			tenantId: 't1',
			...fields,
		});
		expect(
			readDelivery({
				value: [
					notification({ resourceData: { id: id(7).toUpperCase() } }),
					notification({ resource: `communications/presences/${id(8)}` }),
					notification({ resourceData: { '@odata.id': `users/${id(9)}/presence` } }),
					notification({ lifecycleEvent: 'reauthorizationRequired' }),
					{ clientState: 'c' },
				],
				validationTokens: ['a.b.c', 42],
			}),
		).toEqual({
			notifications: [
				{ ...read(), userId: id(7) },
				{ ...read(), userId: id(8) },
				{ ...read(), userId: id(9) },
				{ ...read(), lifecycleEvent: 'reauthorizationRequired' },
			],
			validationTokens: ['a.b.c'],
		});
		expect(readDelivery('nope')).toBeUndefined();
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
