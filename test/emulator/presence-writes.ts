import type { EmulatedUser, PresenceStatusMessage, WorkLocationLayer } from './directory';
import {
	graphError,
	noContent,
	type GraphRequest,
	type GraphResult,
	type RouteContext,
} from './graph-http';
import { isGuid, isRecord } from './util';

/**
 * The presence write actions (POST /users/{id}/presence/{action}, /me/presence/{action}): body checks as
 * /work/shared/graph-presence.md describes them, then a change to the directory. Each answers with no body.
 */

export type PresencePair = readonly [availability: string, activity: string];

export const SET_PRESENCE_PAIRS: readonly PresencePair[] = [
	['Available', 'Available'],
	['Busy', 'InACall'],
	['Busy', 'InAConferenceCall'],
	['Away', 'Away'],
	['DoNotDisturb', 'Presenting'],
];

export const PREFERRED_PRESENCE_PAIRS: readonly PresencePair[] = [
	['Available', 'Available'],
	['Busy', 'Busy'],
	['DoNotDisturb', 'DoNotDisturb'],
	['BeRightBack', 'BeRightBack'],
	['Away', 'Away'],
	['Offline', 'OffWork'],
];

export const WORK_LOCATION_TYPES = ['unspecified', 'office', 'remote', 'timeOff'] as const;

export const MIN_EXPIRATION_MS = 5 * 60 * 1000;
export const MAX_EXPIRATION_MS = 4 * 60 * 60 * 1000;
export const DEFAULT_EXPIRATION = 'PT5M';
/**
 * setUserPreferredPresence without expirationDuration: "DoNotDisturb or Busy: Expiration in 1 day; All others:
 * Expiration in 7 days" (api-reference/v1.0/api/presence-setuserpreferredpresence.md). The page documents no
 * upper bound (its own example is PT8H), so none is enforced; the lower bound of setPresence is kept.
 */
export const PREFERRED_DEFAULT_EXPIRATION: Readonly<Record<string, string>> = {
	DoNotDisturb: 'P1D',
	Busy: 'P1D',
};
export const PREFERRED_OTHER_EXPIRATION = 'P7D';
/** What Graph shows for a status message that never expires. */
export const NEVER_EXPIRES = { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' } as const;

export interface PresenceAction {
	/** As Graph spells it, e.g. 'setPresence'; routes match it case-insensitively. */
	name: string;
	/** Only under /me (work location): app tokens get the /me 400, and there is no /users/{id} form. */
	meOnly: boolean;
	handler: (req: GraphRequest, ctx: RouteContext, user: EmulatedUser) => GraphResult;
}

export const PRESENCE_ACTIONS: readonly PresenceAction[] = [
	{ name: 'setPresence', meOnly: false, handler: setPresence },
	{ name: 'clearPresence', meOnly: false, handler: clearPresence },
	{ name: 'setUserPreferredPresence', meOnly: false, handler: setUserPreferredPresence },
	{ name: 'clearUserPreferredPresence', meOnly: false, handler: clearUserPreferredPresence },
	{ name: 'setStatusMessage', meOnly: false, handler: setStatusMessage },
	{
		name: 'setManualLocation',
		meOnly: true,
		handler: (req, ctx, user) => setLocation(req, ctx, user, 'manual'),
	},
	{
		name: 'setAutomaticLocation',
		meOnly: true,
		handler: (req, ctx, user) => setLocation(req, ctx, user, 'automatic'),
	},
	{
		name: 'clearAutomaticLocation',
		meOnly: true,
		handler: (_req, ctx, user) => clearLocation(ctx, user, ['automatic']),
	},
	{
		name: 'clearLocation',
		meOnly: true,
		handler: (_req, ctx, user) => clearLocation(ctx, user, ['manual', 'automatic']),
	},
];

/**
 * ISO 8601 durations as Graph (Edm.Duration) writes them: P[nD][T[nH][nM][n[.n]S]], upper case, at least one
 * component. Returns milliseconds, or undefined when the text is not such a duration.
 */
export function parseIsoDuration(text: string): number | undefined {
	const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
	if (m === null) return undefined;
	const [, d, h, min, s] = m;
	if (d === undefined && h === undefined && min === undefined && s === undefined) return undefined;
	// 'PT' alone, or 'P1DT', is not a duration.
	if (text.endsWith('T')) return undefined;
	return (
		((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 +
		Math.round(Number(s ?? 0) * 1000)
	);
}

function badRequest(req: GraphRequest, message: string): GraphResult {
	return graphError(req, 400, 'BadRequest', message);
}

function describePairs(pairs: readonly PresencePair[]): string {
	return pairs.map(([a, b]) => `${a}/${b}`).join(', ');
}

/** Case-insensitive, like the rest of the presence values; answers with Graph's own casing. */
function findPair(
	pairs: readonly PresencePair[],
	availability: string,
	activity: string,
): PresencePair | undefined {
	return pairs.find(
		([a, b]) =>
			a.toLowerCase() === availability.toLowerCase() && b.toLowerCase() === activity.toLowerCase(),
	);
}

type Checked<T> = { ok: true; value: T } | { ok: false; result: GraphResult };

function checkPair(
	req: GraphRequest,
	body: Record<string, unknown>,
	pairs: readonly PresencePair[],
	action: string,
): Checked<PresencePair> {
	const { availability, activity } = body;
	if (typeof availability !== 'string' || typeof activity !== 'string') {
		return {
			ok: false,
			result: badRequest(req, `${action} needs 'availability' and 'activity', both strings.`),
		};
	}
	const pair = findPair(pairs, availability, activity);
	if (pair === undefined) {
		return {
			ok: false,
			result: badRequest(
				req,
				`The availability and activity pair '${availability}/${activity}' is not valid for ${action}. Valid pairs: ${describePairs(pairs)}.`,
			),
		};
	}
	return { ok: true, value: pair };
}

/**
 * undefined in the body means "not given" (null too); anything else must be a duration of at least PT5M and, for
 * setPresence, at most PT4H ("The valid duration range is 5-240 minutes", presence-setpresence.md).
 */
function checkDuration(
	req: GraphRequest,
	value: unknown,
	maxMs: number = MAX_EXPIRATION_MS,
): Checked<{ text: string; ms: number } | undefined> {
	if (value === undefined || value === null) return { ok: true, value: undefined };
	const ms = typeof value === 'string' ? parseIsoDuration(value) : undefined;
	if (typeof value !== 'string' || ms === undefined) {
		return {
			ok: false,
			result: badRequest(
				req,
				`'expirationDuration' must be an ISO 8601 duration such as PT5M or PT1H30M, got ${JSON.stringify(value)}.`,
			),
		};
	}
	if (ms < MIN_EXPIRATION_MS || ms > maxMs) {
		return {
			ok: false,
			result: badRequest(
				req,
				maxMs === Infinity
					? `'expirationDuration' must be at least PT5M, got '${value}'.`
					: `'expirationDuration' must be between PT5M and PT4H, got '${value}'.`,
			),
		};
	}
	return { ok: true, value: { text: value, ms } };
}

function bodyObject(req: GraphRequest, action: string): Checked<Record<string, unknown>> {
	if (!isRecord(req.body))
		return {
			ok: false,
			result: badRequest(req, `${action} needs a JSON object as its request body.`),
		};
	return { ok: true, value: req.body };
}

function checkSessionId(req: GraphRequest, body: Record<string, unknown>): Checked<string> {
	const { sessionId } = body;
	if (typeof sessionId !== 'string' || !isGuid(sessionId)) {
		return {
			ok: false,
			result: badRequest(
				req,
				`'sessionId' must be a GUID (the application's client id), got ${JSON.stringify(sessionId ?? null)}.`,
			),
		};
	}
	return { ok: true, value: sessionId };
}

function setPresence(req: GraphRequest, ctx: RouteContext, user: EmulatedUser): GraphResult {
	const body = bodyObject(req, 'setPresence');
	if (!body.ok) return body.result;
	const sessionId = checkSessionId(req, body.value);
	if (!sessionId.ok) return sessionId.result;
	const pair = checkPair(req, body.value, SET_PRESENCE_PAIRS, 'setPresence');
	if (!pair.ok) return pair.result;
	const duration = checkDuration(req, body.value.expirationDuration);
	if (!duration.ok) return duration.result;
	const { text, ms } = duration.value ?? { text: DEFAULT_EXPIRATION, ms: MIN_EXPIRATION_MS };
	ctx.directory.setSession(
		user,
		{
			sessionId: sessionId.value,
			availability: pair.value[0],
			activity: pair.value[1],
			expirationDuration: text,
			durationMs: ms,
		},
		ctx.now,
	);
	return noContent(200);
}

function clearPresence(req: GraphRequest, ctx: RouteContext, user: EmulatedUser): GraphResult {
	const body = bodyObject(req, 'clearPresence');
	if (!body.ok) return body.result;
	const sessionId = checkSessionId(req, body.value);
	if (!sessionId.ok) return sessionId.result;
	if (!ctx.directory.clearSession(user, sessionId.value, ctx.now)) {
		return graphError(
			req,
			404,
			'NotFound',
			`The presence session '${sessionId.value}' does not exist for user '${user.id}'.`,
		);
	}
	return noContent(200);
}

function setUserPreferredPresence(
	req: GraphRequest,
	ctx: RouteContext,
	user: EmulatedUser,
): GraphResult {
	const body = bodyObject(req, 'setUserPreferredPresence');
	if (!body.ok) return body.result;
	const pair = checkPair(req, body.value, PREFERRED_PRESENCE_PAIRS, 'setUserPreferredPresence');
	if (!pair.ok) return pair.result;
	const duration = checkDuration(req, body.value.expirationDuration, Infinity);
	if (!duration.ok) return duration.result;
	const fallback = PREFERRED_DEFAULT_EXPIRATION[pair.value[0]] ?? PREFERRED_OTHER_EXPIRATION;
	ctx.directory.setPreferred(
		user,
		{
			availability: pair.value[0],
			activity: pair.value[1],
			// As sent; null when Graph applied its default.
			expirationDuration: duration.value?.text ?? null,
			durationMs: duration.value?.ms ?? parseIsoDuration(fallback) ?? null,
		},
		ctx.now,
	);
	return noContent(200);
}

function clearUserPreferredPresence(
	_req: GraphRequest,
	ctx: RouteContext,
	user: EmulatedUser,
): GraphResult {
	ctx.directory.clearPreferred(user, ctx.now);
	return noContent(200);
}

/** Graph's dateTimeTimeZone.dateTime: no offset, optional fraction (up to 7 digits, as Graph writes them). */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,7})?$/;

function isLocalDateTime(text: string): boolean {
	const m = LOCAL_DATE_TIME.exec(text);
	if (m === null) return false;
	const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
	const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
	return (
		date.getUTCFullYear() === year &&
		date.getUTCMonth() === month - 1 &&
		date.getUTCDate() === day &&
		hour < 24 &&
		minute < 60 &&
		second < 60
	);
}

function setStatusMessage(req: GraphRequest, ctx: RouteContext, user: EmulatedUser): GraphResult {
	const body = bodyObject(req, 'setStatusMessage');
	if (!body.ok) return body.result;
	const statusMessage = body.value.statusMessage;
	if (!isRecord(statusMessage))
		return badRequest(
			req,
			"setStatusMessage needs 'statusMessage', an object with 'message' { content, contentType }.",
		);
	const message = statusMessage.message;
	if (!isRecord(message) || typeof message.content !== 'string') {
		return badRequest(req, "'statusMessage.message.content' must be a string.");
	}
	if (typeof message.contentType !== 'string' || message.contentType.toLowerCase() !== 'text') {
		return badRequest(
			req,
			`'statusMessage.message.contentType' must be 'text', got ${JSON.stringify(message.contentType ?? null)}.`,
		);
	}
	let expiry: { dateTime: string; timeZone: string } | undefined;
	const rawExpiry = statusMessage.expiryDateTime;
	if (rawExpiry !== undefined && rawExpiry !== null) {
		if (
			!isRecord(rawExpiry) ||
			typeof rawExpiry.dateTime !== 'string' ||
			!isLocalDateTime(rawExpiry.dateTime)
		) {
			return badRequest(
				req,
				`'statusMessage.expiryDateTime.dateTime' must be a date and time without offset, e.g. 2026-11-24T17:00:00, got ${JSON.stringify(isRecord(rawExpiry) ? (rawExpiry.dateTime ?? null) : rawExpiry)}.`,
			);
		}
		if (typeof rawExpiry.timeZone !== 'string' || rawExpiry.timeZone.trim() === '') {
			return badRequest(
				req,
				"'statusMessage.expiryDateTime.timeZone' is required with a dateTime, e.g. 'UTC' or 'Europe/Berlin'.",
			);
		}
		expiry = { dateTime: rawExpiry.dateTime, timeZone: rawExpiry.timeZone };
	}
	const next: PresenceStatusMessage | null =
		message.content === ''
			? null
			: {
					message: { content: message.content, contentType: 'text' },
					expiryDateTime: expiry ?? { ...NEVER_EXPIRES },
					publishedDateTime: new Date(ctx.now).toISOString(),
				};
	ctx.directory.setStatusMessage(user, next);
	return noContent(200);
}

function setLocation(
	req: GraphRequest,
	ctx: RouteContext,
	user: EmulatedUser,
	layer: WorkLocationLayer,
): GraphResult {
	const action = layer === 'manual' ? 'setManualLocation' : 'setAutomaticLocation';
	const body = bodyObject(req, action);
	if (!body.ok) return body.result;
	const { workLocationType, placeId } = body.value;
	const type =
		typeof workLocationType === 'string'
			? WORK_LOCATION_TYPES.find((t) => t.toLowerCase() === workLocationType.toLowerCase())
			: undefined;
	if (type === undefined) {
		return badRequest(
			req,
			`'workLocationType' must be one of ${WORK_LOCATION_TYPES.join(', ')}, got ${JSON.stringify(workLocationType ?? null)}.`,
		);
	}
	if (placeId !== undefined && placeId !== null && typeof placeId !== 'string') {
		return badRequest(req, `'placeId' must be a string, got ${JSON.stringify(placeId)}.`);
	}
	ctx.directory.setWorkLocation(user, layer, { workLocationType: type, placeId: placeId ?? null });
	// Documented as 200 OK; the documentation's own example response is 204 No Content.
	return noContent(204);
}

function clearLocation(
	ctx: RouteContext,
	user: EmulatedUser,
	layers: readonly WorkLocationLayer[],
): GraphResult {
	ctx.directory.clearWorkLocation(user, layers);
	return noContent(204);
}
