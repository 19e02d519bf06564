import { X509Certificate } from 'crypto';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { clientOptionFields, clientOptions, watchedUsersProperties } from '../shared/descriptions';
import {
	checkNotificationUrl,
	decryptContent,
	newClientState,
	readNotifications,
	sameSecret,
} from '../shared/notifications/notifications';
import { isPresence, type Presence } from '../shared/presence/presence';
import { diffPresences, forgetUnwatched, inSequenceOrder } from '../shared/presence/presenceDiff';
import { DELEGATED_CREDENTIAL_TYPE, GraphClient } from '../shared/transport/graphClient';
import {
	changeItem,
	diffOptions,
	eventOptionFields,
	triggerOnProperty,
	type EventOptions,
} from '../shared/trigger/events';
import { watchedUserIds } from '../shared/trigger/watchedUsers';
import {
	deleteSubscription,
	ourSubscriptions,
	subscriptionsHealthy,
	syncSubscriptions,
	type InstantState,
	type RichNotifications,
} from './subscriptions';

/** How often the renewal schedule checks the subscriptions (each lives 55 minutes, renewed with 20 left). */
const RENEWAL_CRON = '0 */5 * * * *';
const MAX_VALIDATION_TOKEN = 1024;

interface InstantOptions extends EventOptions {
	richNotifications?: boolean;
}

async function clientFor(
	ctx: IHookFunctions | IWebhookFunctions | ITriggerFunctions,
): Promise<GraphClient> {
	return await GraphClient.create(
		ctx,
		'oAuth2',
		clientOptions(ctx.getNodeParameter('options', {}) as InstantOptions),
	);
}

async function richSettings(
	ctx: IHookFunctions | IWebhookFunctions | ITriggerFunctions,
): Promise<{ rich?: RichNotifications; privateKey?: string }> {
	const options = ctx.getNodeParameter('options', {}) as InstantOptions;
	if (!options.richNotifications) return {};
	const credential = await ctx.getCredentials(DELEGATED_CREDENTIAL_TYPE);
	const pem =
		typeof credential.notificationCertificate === 'string'
			? credential.notificationCertificate
			: '';
	const privateKey =
		typeof credential.notificationPrivateKey === 'string' ? credential.notificationPrivateKey : '';
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

export class MicrosoftGraphPresenceInstantTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Graph Presence Instant Trigger',
		name: 'microsoftGraphPresenceInstantTrigger',
		icon: {
			light: 'file:microsoftGraphPresenceInstantTrigger.svg',
			dark: 'file:microsoftGraphPresenceInstantTrigger.dark.svg',
		},
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "Instant: " + $parameter["triggerOn"] }}',
		description:
			"Starts the workflow the moment someone's Microsoft Teams presence changes (Graph change notifications, renewed automatically)",
		defaults: { name: 'Microsoft Graph Presence Instant Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'microsoftGraphPresenceOAuth2Api', required: true }],
		webhooks: [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'presence' },
		],
		properties: [
			{
				displayName:
					'Graph sends presence changes only to subscriptions made with delegated sign-in (OAuth2, Presence.Read.All): application permissions cannot subscribe to presence. n8n must be reachable from Microsoft over HTTPS (WEBHOOK_URL).',
				name: 'delegatedNotice',
				type: 'notice',
				default: '',
			},
			...watchedUsersProperties(
				'Whom to watch: Entra object IDs (GUIDs), user principal names or e-mail addresses, separated by commas, semicolons, spaces or new lines, or a list. One subscription per 650 users.',
			),
			triggerOnProperty,
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: (
					[
						...clientOptionFields,
						...eventOptionFields,
						{
							displayName: 'Rich Notifications',
							name: 'richNotifications',
							type: 'boolean',
							default: false,
							description:
								'Whether Graph sends the new availability and activity encrypted inside each notification (no extra request); needs the notification certificate and private key in the credential',
						},
					] as INodeProperties[]
				).sort((a, b) => a.displayName.localeCompare(b.displayName)),
			},
		],
	};

	webhookMethods = {
		default: {
			/** At activation (and after n8n restarts): true only when every watched user has a live subscription of ours. */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as InstantState;
				if (state.notificationUrl !== this.getNodeWebhookUrl('default')) return false;
				const client = await clientFor(this);
				const ids = await watchedUserIds(this, client, state, { persist: true, now: Date.now() });
				return await subscriptionsHealthy(client, state, ids, Date.now());
			},
			/** Subscribes (Graph validates the URL through webhook() meanwhile) and records everyone's presence as the baseline. */
			async create(this: IHookFunctions): Promise<boolean> {
				const url = this.getNodeWebhookUrl('default');
				const check = checkNotificationUrl(url);
				if (!check.ok) throw new NodeOperationError(this.getNode(), check.message);
				const state = this.getWorkflowStaticData('node') as InstantState;
				const now = Date.now();
				const client = await clientFor(this);
				const ids = await watchedUserIds(this, client, state, { persist: true, now });
				state.notificationUrl = url;
				state.clientState = newClientState();
				const users = (state.users = {});
				const presences = (await client.getManyPresences([...ids])).flatMap((batch) =>
					batch.result instanceof Error ? [] : batch.result,
				);
				diffPresences(users, presences, diffOptions('anyChange', {}), new Date(now).toISOString());
				const { rich } = await richSettings(this);
				await syncSubscriptions(this, client, state, ids, now, rich);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as InstantState;
				const url = state.notificationUrl ?? this.getNodeWebhookUrl('default');
				if (url) {
					const client = await clientFor(this);
					for (const subscription of await ourSubscriptions(client, url))
						await deleteSubscription(client, subscription.id);
				}
				delete state.clientState;
				delete state.notificationUrl;
				delete state.users;
				return true;
			},
		},
	};

	/**
	 * Renewal that does not wait for a notification: n8n runs trigger() for an active workflow alongside its
	 * webhook, so a schedule here checks the subscriptions every five minutes and renews or re-creates them.
	 */
	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		if (this.getMode() === 'manual') return {};
		const renew = async () => {
			try {
				const state = this.getWorkflowStaticData('node') as InstantState;
				const client = await clientFor(this);
				const now = Date.now();
				const ids = await watchedUserIds(this, client, state, { persist: true, now });
				const { rich } = await richSettings(this);
				const result = await syncSubscriptions(this, client, state, ids, now, rich);
				if (result.created + result.renewed + result.deleted > 0) {
					this.logger.info(
						`Microsoft Graph Presence Instant Trigger: subscriptions renewed ${result.renewed}, re-created ${result.created}, removed ${result.deleted}`,
					);
				}
			} catch (error) {
				this.logger.warn(
					`Microsoft Graph Presence Instant Trigger: renewing subscriptions failed, trying again in 5 minutes: ${error instanceof Error ? error.message : String(error)}`,
				);
			}
		};
		this.helpers.registerCron({ expression: RENEWAL_CRON }, () => void renew());
		return {};
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const response = this.getResponseObject();

		// Graph's validation handshake: the decoded token, as plain text, nothing else.
		const token = request.query.validationToken;
		if (token !== undefined) {
			if (typeof token !== 'string' || token.length > MAX_VALIDATION_TOKEN) {
				response.status(400).end();
			} else {
				response
					.status(200)
					.set({ 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
					.send(token);
			}
			return { noWebhookResponse: true };
		}

		const state = this.getWorkflowStaticData('node') as InstantState;
		const clientState = state.clientState;
		const notifications = (readNotifications(this.getBodyData()) ?? []).filter(
			(notification) =>
				clientState !== undefined && sameSecret(clientState, notification.clientState),
		);
		// Answer at once (Graph wants 2xx within 3 s); the work below runs after.
		if (notifications.length === 0) {
			response.status(401).end();
			return { noWebhookResponse: true };
		}
		response.status(202).end();

		const now = Date.now();
		const client = await clientFor(this);
		const ids = await watchedUserIds(this, client, state, { persist: true, now });
		const lifecycle = notifications.filter((notification) => notification.lifecycleEvent);
		if (lifecycle.some((notification) => notification.lifecycleEvent !== 'missed')) {
			const { rich } = await richSettings(this);
			const reauthorize = lifecycle.some(
				(notification) => notification.lifecycleEvent === 'reauthorizationRequired',
			);
			await syncSubscriptions(this, client, state, ids, now, rich, reauthorize);
		}

		// Users to compare: those named in change notifications, or everyone when Graph says it missed some.
		const missed = lifecycle.some((notification) => notification.lifecycleEvent === 'missed');
		const changed = new Set<string>(missed ? ids : []);
		const decrypted: Presence[] = [];
		const { privateKey } = await richSettings(this);
		for (const notification of notifications) {
			if (notification.lifecycleEvent || !notification.userId || !ids.has(notification.userId))
				continue;
			if (notification.encryptedContent && privateKey) {
				try {
					const content = decryptContent(notification.encryptedContent, privateKey);
					if (isPresence(content)) {
						decrypted.push(content);
						continue;
					}
				} catch (error) {
					this.logger.warn(
						`Microsoft Graph Presence Instant Trigger: refused a notification: ${error instanceof Error ? error.message : String(error)}`,
					);
					continue;
				}
			}
			changed.add(notification.userId);
		}
		const fetched =
			changed.size > 0
				? (await client.getManyPresences([...changed])).flatMap((batch) =>
						batch.result instanceof Error ? [] : batch.result,
					)
				: [];

		const users = (state.users ??= {});
		forgetUnwatched(users, ids);
		const options = this.getNodeParameter('options', {}) as InstantOptions;
		// Several notifications for one user arrive in any order: oldest version first, so each change is seen once.
		const presences = inSequenceOrder([...decrypted, ...fetched]);
		const diff = diffPresences(
			users,
			presences,
			diffOptions(this.getNodeParameter('triggerOn', 'anyChange'), options),
			new Date(now).toISOString(),
		);
		const items: INodeExecutionData[] = diff.changes.map(changeItem);
		return items.length > 0
			? { workflowData: [items], noWebhookResponse: true }
			: { noWebhookResponse: true };
	}
}
