import { X509Certificate } from 'crypto';
import {
	NodeOperationError,
	type IHookFunctions,
	type ITriggerFunctions,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { DELEGATED_CREDENTIAL_TYPE, GraphClient } from '../shared/transport/graphClient';
import type { InstantOptions } from './description';
import type { RichNotifications } from './subscriptionUpkeep';

/**
 * What every entry point of the instant trigger (activation, renewal schedule, webhook) reads
 * first.
 */

export type InstantContext = IHookFunctions | IWebhookFunctions | ITriggerFunctions;

export function instantOptions(ctx: InstantContext): InstantOptions {
	return ctx.getNodeParameter('options', {}) as InstantOptions;
}

/** Presence subscriptions exist only for delegated sign-in: always the OAuth2 credential. */
export async function clientFor(ctx: InstantContext): Promise<GraphClient> {
	return await GraphClient.create(ctx, 'oAuth2', instantOptions(ctx));
}

/**
 * The certificate Graph encrypts rich notifications with, and its private key, when the option is
 * on.
 */
export async function richSettings(
	ctx: InstantContext,
): Promise<{ rich?: RichNotifications; privateKey?: string }> {
	if (!instantOptions(ctx).richNotifications) return {};
	const credential = await ctx.getCredentials(DELEGATED_CREDENTIAL_TYPE);
	const text = (value: unknown) => (typeof value === 'string' ? value : '');
	const pem = text(credential.notificationCertificate);
	const privateKey = text(credential.notificationPrivateKey);
	if (!pem || !privateKey) {
		throw new NodeOperationError(
			ctx.getNode(),
			'Rich notifications need a Notification Encryption Certificate and Private Key in the credential',
		);
	}
	const certificate = new X509Certificate(pem);
	return {
		rich: {
			certificate: certificate.raw.toString('base64'),
			certificateId: certificate.fingerprint256.replace(/:/g, '').slice(0, 32),
		},
		privateKey,
	};
}
