/**
 * In-process Microsoft Graph + Entra login emulator for tests (see /work/shared/graph-presence.md for the
 * behaviour it imitates). Start one per test file or test, point credentials at `emu.url` / `emu.loginBaseUrl`,
 * and always `await emu.stop()`.
 */
export { GraphEmulator, DEFAULT_THROTTLE, MAX_BATCH_REQUESTS } from './graph-emulator';
export type { GraphEmulatorOptions, LogEntry, EmulatorStats } from './graph-emulator';
export type { EmulatedUser, Presence, PresenceStatusMessage, PresenceUpdate } from './directory';
export type { AppRegistration, TokenKind, TokenRecord } from './tokens';
export type { FaultConfig, FaultKind, RetryAfterFormat, ThrottleConfig } from './faults';
export { MAX_PRESENCE_IDS } from './graph-routes';
