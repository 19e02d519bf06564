/**
 * In-process Microsoft Graph + Entra login emulator for tests (see /work/shared/graph-presence.md for the
 * behaviour it imitates). Start one per test file or test, point credentials at `emu.url` / `emu.loginBaseUrl`,
 * and always `await emu.stop()`.
 */
export { GraphEmulator, DEFAULT_THROTTLE, MAX_BATCH_REQUESTS } from './graph-emulator';
export type {
	GraphEmulatorOptions,
	LogEntry,
	EmulatorStats,
	PresenceRead,
	NextLinkRewrite,
	RedirectRule,
} from './graph-emulator';
export type {
	DirectoryObjectKind,
	EmulatedGroup,
	EmulatedUser,
	GroupOptions,
	PreferredPresence,
	Presence,
	PresenceSession,
	PresenceStatusMessage,
	PresenceUpdate,
	UserUpdate,
	WorkLocation,
	WorkLocationLayer,
} from './directory';
export type { AppRegistration, TokenKind, TokenRecord } from './tokens';
export type { FaultConfig, FaultKind, RetryAfterFormat, ThrottleConfig } from './faults';
export { MAX_PRESENCE_IDS } from './graph-routes';
export {
	DEFAULT_PAGE_SIZE,
	MAX_ADVANCED_QUERY_URL,
	MAX_FILTER_EXPRESSIONS,
	MAX_PAGE_SIZE,
	parseUserFilter,
} from './collections';
export {
	DEFAULT_EXPIRATION,
	PREFERRED_DEFAULT_EXPIRATION,
	PREFERRED_OTHER_EXPIRATION,
	PREFERRED_PRESENCE_PAIRS,
	SET_PRESENCE_PAIRS,
	WORK_LOCATION_TYPES,
	parseIsoDuration,
} from './presence-writes';
export type { PresencePair } from './presence-writes';
export {
	DEFAULT_NOTIFICATION_BATCH_MS,
	LIFECYCLE_EVENTS,
	MAX_CLIENT_STATE_LENGTH,
	MAX_SUBSCRIPTION_MINUTES,
	MAX_SUBSCRIPTION_USERS,
	SUBSCRIPTION_EXPIRY_TOLERANCE_MS,
	CHANGE_TRACKING_APP_ID,
	encryptResource,
	parsePresenceResource,
} from './subscriptions';
export type {
	EmulatedSubscription,
	EncryptedContent,
	ForgedToken,
	LifecycleEvent,
	LifecycleNotification,
	LifecyclePayload,
	NotificationPayload,
	RedeliveryConfig,
	PresenceNotification,
	SubscriptionResource,
} from './subscriptions';
export { DEFAULT_DELIVERY_POLICY, newValidationToken } from './webhooks';
export type { Delivery, DeliveryKind, DeliveryPolicy } from './webhooks';
