import { isRecord } from '../guards';

/**
 * Graph's presence resource and the guards that admit it. Values are open sets (Graph has added
 * availabilities and changed their case over time), so they are typed as strings and passed
 * through.
 */

export interface PresenceStatusMessage {
	message?: { content?: string; contentType?: string } | null;
	expiryDateTime?: { dateTime?: string; timeZone?: string } | null;
	publishedDateTime?: string | null;
}

export interface Presence {
	id: string;
	availability?: string;
	activity?: string;
	statusMessage?: PresenceStatusMessage | null;
	outOfOfficeSettings?: { isOutOfOffice?: boolean; message?: string | null } | null;
	sequenceNumber?: string | null;
	workLocation?: { workLocationType?: string; source?: string; placeId?: string | null } | null;
	[key: string]: unknown;
}

export function isPresence(value: unknown): value is Presence {
	return isRecord(value) && typeof value.id === 'string';
}

/** `{ value: Presence[] }`, as getPresencesByUserId answers. */
export function isPresenceList(value: unknown): value is { value: Presence[] } {
	return isRecord(value) && Array.isArray(value.value) && value.value.every(isPresence);
}

export interface SimplePresence {
	id: string;
	availability: string | null;
	activity: string | null;
	statusMessage: string | null;
	isOutOfOffice: boolean;
	outOfOfficeMessage: string | null;
	workLocation: string | null;
	sequenceNumber: string | null;
}

/**
 * The flat shape of the Simplify option: what a status light, an IF node or a Slack message needs.
 */
export function simplifyPresence(presence: Presence): SimplePresence {
	return {
		id: presence.id,
		availability: presence.availability ?? null,
		activity: presence.activity ?? null,
		statusMessage: presence.statusMessage?.message?.content ?? null,
		isOutOfOffice: presence.outOfOfficeSettings?.isOutOfOffice === true,
		outOfOfficeMessage: presence.outOfOfficeSettings?.message ?? null,
		workLocation: presence.workLocation?.workLocationType ?? null,
		sequenceNumber: presence.sequenceNumber ?? null,
	};
}

/**
 * Graph keeps neither order nor, for unknown ids, count: index the answer by id,
 * case-insensitively.
 */
export function indexById(presences: readonly Presence[]): Map<string, Presence> {
	const byId = new Map<string, Presence>();
	for (const presence of presences) byId.set(presence.id.toLowerCase(), presence);
	return byId;
}
