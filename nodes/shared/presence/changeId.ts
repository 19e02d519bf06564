import type { Presence } from './presence';

/**
 * The key a trigger item carries for de-duplication downstream: the user and the version of the
 * presence it reports. Graph's sequenceNumber is that version when the presence was read (every
 * process that reads the same version makes the same key); the content of a rich notification has
 * no version, so the notification's digest stands in (a redelivery of it makes the same key).
 * Without either, the time it was observed.
 */
export function changeIdOf(presence: Presence, observedAt: string, notification?: string): string {
	const id = presence.id.toLowerCase();
	if (notification !== undefined) return `${id}:~${notification}`;
	const version = presence.sequenceNumber;
	return typeof version === 'string' && version !== ''
		? `${id}:${version}`
		: `${id}:@${observedAt}`;
}
