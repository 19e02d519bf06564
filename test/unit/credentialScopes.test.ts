import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import {
	DEFAULT_PURPOSES,
	MicrosoftGraphPresenceOAuth2Api,
	PURPOSES,
} from '../../credentials/MicrosoftGraphPresenceOAuth2Api.credentials';
import { buildEnvironment } from '../harness';

/**
 * The delegated credential's scope, evaluated as n8n evaluates it before the sign-in (the credential's
 * stored data, type defaults filled in, the hidden `scope` expression resolved with $self): through the
 * harness's credentials helper, which follows n8n's CredentialsHelper.
 */

const TYPE = 'microsoftGraphPresenceOAuth2Api';
/** What every credential of version 0.1 asked for. */
const SCOPES_BEFORE = 'openid offline_access Presence.Read Presence.Read.All User.ReadBasic.All';

async function scopeOf(data: ICredentialDataDecryptedObject): Promise<string> {
	const { additionalData, credentialsHelper } = await buildEnvironment({
		workflow: { nodes: [], connections: {} },
		credentialTypes: [new MicrosoftGraphPresenceOAuth2Api()],
		credentials: { c: { type: TYPE, data: { clientId: 'id', clientSecret: 's', ...data } } },
	});
	const decrypted = await credentialsHelper.getDecrypted(
		additionalData,
		{ id: 'c', name: 'Graph' },
		TYPE,
		'manual',
	);
	return String(decrypted.scope);
}

describe('delegated scopes per purpose', () => {
	it('asks a credential saved before "Used For" existed for exactly the scopes it asked for then', async () => {
		expect(await scopeOf({})).toBe(SCOPES_BEFORE);
		expect(await scopeOf({ tenant: 'contoso.example', cloud: 'global' })).toBe(SCOPES_BEFORE);
		expect(await scopeOf({ additionalScopes: 'Presence.ReadWrite, Presence.ReadWrite.All' })).toBe(
			`${SCOPES_BEFORE} Presence.ReadWrite Presence.ReadWrite.All`,
		);
		// National clouds: qualified with the cloud's Graph host, as before.
		expect(await scopeOf({ cloud: 'usGovL4' })).toBe(
			'openid offline_access https://graph.microsoft.us/Presence.Read https://graph.microsoft.us/Presence.Read.All https://graph.microsoft.us/User.ReadBasic.All',
		);
	});

	it('defaults new credentials to that same choice, and counts none ticked as it', async () => {
		expect(await scopeOf({ purposes: DEFAULT_PURPOSES })).toBe(SCOPES_BEFORE);
		// n8n's form shows a new multi-select empty and may save it so.
		expect(await scopeOf({ purposes: [] })).toBe(SCOPES_BEFORE);
		const field = new MicrosoftGraphPresenceOAuth2Api().properties.find(
			(p) => p.name === 'purposes',
		);
		expect(field?.default).toEqual(DEFAULT_PURPOSES);
	});

	it('asks for exactly what each purpose needs', async () => {
		const cases: Array<[string[], string]> = [
			[['ownPresence'], 'Presence.Read'],
			[['othersPresence'], 'Presence.Read.All'],
			[['instantTrigger'], 'Presence.Read.All'],
			[['writePresence'], 'Presence.ReadWrite'],
			[['userLookups'], 'User.ReadBasic.All'],
			[['aliasLookups'], 'User.Read.All'],
			[['groups'], 'GroupMember.Read.All'],
			[['ownPresence', 'writePresence'], 'Presence.Read Presence.ReadWrite'],
			[['othersPresence', 'instantTrigger', 'groups'], 'Presence.Read.All GroupMember.Read.All'],
		];
		for (const [purposes, scopes] of cases) {
			expect([purposes, await scopeOf({ purposes })]).toEqual([
				purposes,
				`openid offline_access${scopes ? ` ${scopes}` : ''}`,
			]);
		}
		// Every purpose offered is one of the cases above.
		expect(PURPOSES.map((purpose) => purpose.value).sort()).toEqual(
			[...new Set(cases.flatMap(([purposes]) => purposes))].sort(),
		);
		expect(
			await scopeOf({
				purposes: ['groups', 'ownPresence'],
				additionalScopes: 'Calendars.Read',
				cloud: 'usGovL5',
			}),
		).toBe(
			'openid offline_access https://dod-graph.microsoft.us/Presence.Read https://dod-graph.microsoft.us/GroupMember.Read.All https://dod-graph.microsoft.us/Calendars.Read',
		);
	});
});
