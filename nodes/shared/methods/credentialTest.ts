import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { acquireAppToken, checkAppCredential, readAppCredential } from '../transport/appTokens';
import { resolveCloud } from '../transport/clouds';

/**
 * Tests the application credential the way the node uses it: MSAL must get a token from the tenant
 * with the secret or certificate. Missing permissions or admin consent show on the first Graph
 * call, with a hint.
 */
export async function microsoftGraphPresenceAppApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = credential.data ?? {};
	const cloud = typeof data.cloud === 'string' && data.cloud ? data.cloud : 'global';
	const resolved = resolveCloud(cloud, data.graphBaseUrl, data.loginBaseUrl);
	if (!resolved.ok) return { status: 'Error', message: resolved.message };
	const app = readAppCredential(data);
	const problem = checkAppCredential(app);
	if (problem) return { status: 'Error', message: problem };
	try {
		await acquireAppToken(cloud, resolved.endpoints, app, true);
		return { status: 'OK', message: 'Signed in to the tenant as the application' };
	} catch (error) {
		return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
	}
}
