import { deterministicGuid } from './util';

export interface PresenceStatusMessage {
	message: { content: string; contentType: string } | null;
	expiryDateTime: { dateTime: string; timeZone: string } | null;
	publishedDateTime: string | null;
}

export interface Presence {
	id: string;
	availability: string;
	activity: string;
	statusMessage: PresenceStatusMessage | null;
	outOfOfficeSettings: { message: string | null; isOutOfOffice: boolean };
	sequenceNumber: string;
	workLocation: { workLocationType: string; source: string; placeId: string | null };
}

export type PresenceUpdate = Partial<Omit<Presence, 'id' | 'sequenceNumber'>>;

export interface EmulatedUser {
	id: string;
	userPrincipalName: string;
	mail: string;
	displayName: string;
	givenName: string;
	surname: string;
	presence: Presence;
}

/** Pairs seen in real responses; initial presences are picked from these. */
const INITIAL_PAIRS: ReadonlyArray<readonly [string, string]> = [
	['Available', 'Available'],
	['Busy', 'InACall'],
	['Busy', 'InAMeeting'],
	['Busy', 'Busy'],
	['Away', 'Away'],
	['DoNotDisturb', 'Presenting'],
	['Offline', 'OffWork'],
	['BeRightBack', 'BeRightBack'],
	['AvailableIdle', 'Available'],
	['Offline', 'Offline'],
	['PresenceUnknown', 'PresenceUnknown'],
];

export class Directory {
	readonly users: EmulatedUser[] = [];
	private readonly index = new Map<string, EmulatedUser>();
	private sequence = 0;

	constructor(private readonly seed: number) {}

	add(count: number): EmulatedUser[] {
		if (!Number.isInteger(count) || count < 0) throw new RangeError(`addUsers needs a whole number >= 0, got ${count}`);
		const added: EmulatedUser[] = [];
		for (let i = 0; i < count; i++) {
			const n = this.users.length + 1;
			const id = deterministicGuid('graph-emulator-user', this.seed, n);
			const upn = `user${n}@contoso.test`;
			const [availability, activity] = INITIAL_PAIRS[parseInt(id.slice(0, 8), 16) % INITIAL_PAIRS.length];
			const user: EmulatedUser = {
				id,
				userPrincipalName: upn,
				mail: upn,
				displayName: `User ${n}`,
				givenName: 'User',
				surname: String(n),
				presence: {
					id,
					availability,
					activity,
					statusMessage: n % 5 === 0 ? statusMessage(`Status of User ${n}`) : null,
					outOfOfficeSettings: { message: null, isOutOfOffice: false },
					sequenceNumber: this.nextSequenceNumber(id),
					workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
				},
			};
			this.users.push(user);
			this.index.set(id, user);
			this.index.set(upn.toLowerCase(), user);
			added.push(user);
		}
		return added;
	}

	get(idOrUpn: string): EmulatedUser | undefined {
		return this.index.get(idOrUpn.toLowerCase());
	}

	setPresence(idOrUpn: string, update: PresenceUpdate): Presence {
		const user = this.get(idOrUpn);
		if (user === undefined) throw new Error(`No emulated user '${idOrUpn}'`);
		user.presence = {
			...user.presence,
			...update,
			id: user.id,
			sequenceNumber: this.nextSequenceNumber(user.id),
		};
		return { ...user.presence };
	}

	/** A global counter (zero-padded so string order equals numeric order) plus a per-user suffix. */
	private nextSequenceNumber(userId: string): string {
		this.sequence += 1;
		return `${String(this.sequence).padStart(16, '0')}${userId.slice(0, 8).toUpperCase()}`;
	}
}

export function statusMessage(content: string): PresenceStatusMessage {
	return {
		message: { content, contentType: 'text' },
		expiryDateTime: { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' },
		publishedDateTime: '2024-01-01T08:00:00.0000000Z',
	};
}
