import { generateKeyPairSync, sign, type KeyObject } from 'crypto';

import {
	CHANGE_TRACKING_APP_ID,
	checkValidationToken,
	readSigningKeys,
} from '../../nodes/shared/notifications/validationTokens';

const CLIENT = '8e460676-ae3f-4b1e-8790-ee0fb5d6148f';
const TENANT = '84bd8158-6d4d-4958-8b9f-9d6445542f95';
const NOW = 1_800_000_000;

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = {
	keys: [
		{ kty: 'RSA', use: 'sig', kid: 'k1', ...pair.publicKey.export({ format: 'jwk' }) },
		{ kty: 'EC', use: 'sig', kid: 'ec', crv: 'P-256', x: 'x', y: 'y' },
		{ kty: 'RSA', use: 'enc', kid: 'k-enc', ...other.publicKey.export({ format: 'jwk' }) },
	],
};
const keys = readSigningKeys(jwks);

/** A token shaped like the example of change-notifications-with-resource-data, signed with `key`. */
function token(
	claims: Record<string, unknown> = {},
	options: { key?: KeyObject; kid?: string; alg?: string } = {},
): string {
	const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
	const header = part({ typ: 'JWT', alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1' });
	const payload = part({
		aud: CLIENT,
		iss: `https://sts.windows.net/${TENANT}/`,
		iat: NOW - 60,
		nbf: NOW - 60,
		exp: NOW + 3600,
		appid: CHANGE_TRACKING_APP_ID,
		tid: TENANT,
		ver: '1.0',
		...claims,
	});
	const signature = sign(
		'RSA-SHA256',
		Buffer.from(`${header}.${payload}`),
		options.key ?? pair.privateKey,
	);
	return `${header}.${payload}.${signature.toString('base64url')}`;
}
const expected = {
	clientId: CLIENT.toUpperCase(),
	tenantIds: new Set([TENANT]),
	loginBaseUrl: 'https://login.microsoftonline.us',
	now: NOW,
};
const reason = (jwt: string) => {
	const verdict = checkValidationToken(jwt, keys, expected);
	return verdict.ok ? 'ok' : verdict.reason;
};

describe('validation tokens of rich notifications', () => {
	it('reads only RSA signing keys from the published set', () => {
		expect([...keys.keys()]).toEqual(['k1']);
	});

	it('accepts a token as Microsoft issues it (v1: appid; v2: azp; a national cloud’s issuer)', () => {
		expect(reason(token())).toBe('ok');
		expect(reason(token({ appid: undefined, azp: CHANGE_TRACKING_APP_ID, ver: '2.0' }))).toBe('ok');
		expect(reason(token({ iss: `https://login.microsoftonline.us/${TENANT}/v2.0` }))).toBe('ok');
	});

	it('refuses what does not prove Graph sent it, saying why', () => {
		expect(reason(token({}, { key: other.privateKey }))).toBe('its signature does not verify');
		expect(reason(token({ aud: 'someone-else' }))).toBe('issued for another app');
		expect(reason(token({ appid: CLIENT }))).toBe('not issued to Microsoft Graph change tracking');
		expect(
			reason(token({ iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/' })),
		).toBe("not issued by the notifications' tenant");
		expect(reason(token({ iss: `https://evil.example/${TENANT}/` }))).toBe(
			"not issued by the notifications' tenant",
		);
		expect(reason(token({ exp: NOW - 301 }))).toBe('expired');
		expect(reason(token({ nbf: NOW + 301 }))).toBe('not valid yet');
		expect(reason(token({}, { alg: 'none' }))).toBe('signed with none, not RS256');
		expect(reason('not.a-jwt')).toBe('not a JWT');
		expect(reason('a.b.c')).toBe('unreadable JWT');
	});

	it('tells a key it does not know (rotated since the keys were fetched) from a bad signature', () => {
		expect(checkValidationToken(token({}, { kid: 'k2' }), keys, expected)).toEqual({
			ok: false,
			reason: 'signed with a key Microsoft does not publish',
			unknownKey: true,
		});
	});
});
