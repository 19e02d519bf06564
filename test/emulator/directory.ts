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
	/** The primary SMTP address; differs from the UPN for most users, as in real tenants. */
	mail: string;
	/** 'SMTP:' the primary address, 'smtp:' each alias (user resource: proxyAddresses). */
	proxyAddresses: string[];
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

export type WorkLocation = Presence['workLocation'];

/** An app's presence session (setPresence), as `emu.presenceSessions` shows it. Instants are on the presence clock. */
export interface PresenceSession {
	sessionId: string;
	availability: string;
	activity: string;
	/** As sent, or 'PT5M' when the request had none. */
	expirationDuration: string;
	/** ISO 8601 (UTC) instants. */
	setDateTime: string;
	expiryDateTime: string;
}

/** The user's preferred presence (setUserPreferredPresence). */
export interface PreferredPresence {
	availability: string;
	activity: string;
	/** As sent; null when the request had none and Graph applied its default (1 day or 7 days). */
	expirationDuration: string | null;
	setDateTime: string;
	expiryDateTime: string | null;
}

export type WorkLocationLayer = 'manual' | 'automatic';

export interface EmulatedGroup {
	id: string;
	displayName: string;
}

export interface GroupOptions {
	displayName: string;
	/** User ids or UPNs, and ids of groups added before (nested). */
	members: string[];
	/** Devices and organisational contacts mixed in among the members (alternating, devices first). */
	nonUserMembers?: number;
}

/** What a test may change about a user's addresses and name (updateUser). */
export interface UserUpdate {
	mail?: string;
	/** Replaces the list; give Graph's form, e.g. ['SMTP:jane@contoso.example', 'smtp:jd@contoso.example']. */
	proxyAddresses?: string[];
	displayName?: string;
}

/** The user properties `$filter` compares with eq / in in this emulator. */
export type FilterProperty = 'id' | 'userPrincipalName' | 'mail' | 'displayName';

export type DirectoryObjectKind = 'user' | 'group' | 'device' | 'orgContact';

/** A member of a group as Graph lists it; `user`/`group` point at the emulated user or group. */
export type DirectoryObject =
	| { kind: 'user'; id: string; user: EmulatedUser }
	| { kind: 'group'; id: string; group: EmulatedGroup }
	| { kind: 'device' | 'orgContact'; id: string; displayName: string; n: number };

interface StoredSession {
	sessionId: string;
	availability: string;
	activity: string;
	expirationDuration: string;
	setAt: number;
	expiresAt: number;
	/** Monotonic, so "newest" is well defined when two sessions are set in the same millisecond. */
	order: number;
}

interface StoredPreferred {
	availability: string;
	activity: string;
	expirationDuration: string | null;
	setAt: number;
	expiresAt: number | null;
}

interface StoredGroup extends EmulatedGroup {
	members: DirectoryObject[];
}

export class Directory {
	readonly users: EmulatedUser[] = [];
	/** Object ids and UPNs (lower case): what GET /users/{id | userPrincipalName} resolves. */
	private readonly index = new Map<string, EmulatedUser>();
	/** mail and every proxy address (lower case, without the smtp: prefix) -> users: what $filter finds. */
	private readonly byMail = new Map<string, EmulatedUser[]>();
	private readonly byAddress = new Map<string, EmulatedUser[]>();
	private sequence = 0;
	/** userId -> lowercased sessionId -> session. */
	private readonly sessions = new Map<string, Map<string, StoredSession>>();
	private readonly preferred = new Map<string, StoredPreferred>();
	private readonly locations = new Map<string, Partial<Record<WorkLocationLayer, WorkLocation>>>();
	private sessionOrder = 0;
	private readonly groupList: StoredGroup[] = [];
	private readonly groupIndex = new Map<string, StoredGroup>();
	private nonUserCount = 0;
	/**
	 * Called whenever a user's sequenceNumber advances after creation (every path: base presence, sessions,
	 * preferred presence, status message, work location, expiry). It may read the directory again.
	 */
	onChange: ((user: EmulatedUser) => void) | undefined;

	constructor(private readonly seed: number) {}

	add(count: number): EmulatedUser[] {
		if (!Number.isInteger(count) || count < 0)
			throw new RangeError(`addUsers needs a whole number >= 0, got ${count}`);
		const added: EmulatedUser[] = [];
		for (let i = 0; i < count; i++) {
			const n = this.users.length + 1;
			const id = deterministicGuid('graph-emulator-user', this.seed, n);
			const upn = `user${n}@contoso.test`;
			// As in most real tenants, the UPN is on the tenant's initial domain and mail on the company's own
			// (user resource: "mail", "proxyAddresses"), so GET /users/{mail} is a 404 for most users. Every fifth
			// user (n = 3, 8, 13, ...) has mail = UPN, and every third an extra alias.
			const mail = n % 5 === 3 ? upn : `user${n}@contoso.example`;
			const proxyAddresses = [`SMTP:${mail}`];
			if (mail !== upn) proxyAddresses.push(`smtp:${upn}`);
			if (n % 3 === 0) proxyAddresses.push(`smtp:alias${n}@sales.contoso.example`);
			const [availability, activity] =
				INITIAL_PAIRS[parseInt(id.slice(0, 8), 16) % INITIAL_PAIRS.length];
			const user: EmulatedUser = {
				id,
				userPrincipalName: upn,
				mail,
				proxyAddresses,
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
			this.indexAddresses(user);
			added.push(user);
		}
		return added;
	}

	/** By object id or UPN only, as user-get resolves them: never by mail or alias. */
	get(idOrUpn: string): EmulatedUser | undefined {
		return this.index.get(idOrUpn.toLowerCase());
	}

	/** Changes a user's addresses or name, e.g. to give two users the same address. */
	updateUser(idOrUpn: string, update: UserUpdate): EmulatedUser {
		const user = this.get(idOrUpn);
		if (user === undefined) throw new Error(`updateUser: no emulated user '${idOrUpn}'`);
		this.unindexAddresses(user);
		if (update.mail !== undefined) user.mail = update.mail;
		if (update.proxyAddresses !== undefined) user.proxyAddresses = [...update.proxyAddresses];
		if (update.displayName !== undefined) user.displayName = update.displayName;
		this.indexAddresses(user);
		return user;
	}

	/**
	 * Users whose property equals `value`. Entra compares these strings case-insensitively (a UPN or an address
	 * in any case finds the user); the node assumes the same, and says so in its README.
	 */
	findBy(property: FilterProperty, value: string): EmulatedUser[] {
		const key = value.toLowerCase();
		if (property === 'mail') return [...(this.byMail.get(key) ?? [])];
		if (property === 'displayName')
			return this.users.filter((user) => user.displayName.toLowerCase() === key);
		const user = this.index.get(key);
		if (user === undefined) return [];
		const matches =
			property === 'id' ? user.id === key : user.userPrincipalName.toLowerCase() === key;
		return matches ? [user] : [];
	}

	/** Users with this proxy address, given as Graph stores them ('smtp:jane@…'; the prefix in any case). */
	findByProxyAddress(address: string): EmulatedUser[] {
		const match = /^smtp:(.+)$/i.exec(address);
		if (match === null) return [];
		return [...(this.byAddress.get(match[1].toLowerCase()) ?? [])];
	}

	private indexAddresses(user: EmulatedUser): void {
		const add = (map: Map<string, EmulatedUser[]>, key: string) => {
			const list = map.get(key) ?? [];
			if (!list.includes(user)) list.push(user);
			map.set(key, list);
		};
		if (user.mail) add(this.byMail, user.mail.toLowerCase());
		for (const address of user.proxyAddresses) {
			const match = /^smtp:(.+)$/i.exec(address);
			if (match !== null) add(this.byAddress, match[1].toLowerCase());
		}
	}

	private unindexAddresses(user: EmulatedUser): void {
		for (const map of [this.byMail, this.byAddress]) {
			for (const [key, list] of map) {
				const rest = list.filter((other) => other !== user);
				if (rest.length === list.length) continue;
				if (rest.length === 0) map.delete(key);
				else map.set(key, rest);
			}
		}
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
		const changed = { ...user.presence };
		this.onChange?.(user);
		return changed;
	}

	// ---- presence written through Graph: app sessions, preferred presence, work location layers ----

	/**
	 * What Graph answers for a user: the preferred presence if set and not expired, else the newest live app
	 * session, else the base presence (what `setPresence` sets). Work location: manual, else automatic, else base.
	 * Expired sessions/preferences are dropped here, and dropping one advances sequenceNumber: the user's
	 * presence changed at that moment, and a client de-duplicating by sequenceNumber must see it.
	 */
	effectivePresence(user: EmulatedUser, now: number): Presence {
		this.prune(user, now);
		const base = user.presence;
		const layers = this.locations.get(user.id);
		const workLocation = { ...(layers?.manual ?? layers?.automatic ?? base.workLocation) };
		const preferred = this.preferred.get(user.id);
		const session = this.newestSession(user.id);
		const pair = preferred ?? session;
		return {
			...base,
			availability: pair?.availability ?? base.availability,
			activity: pair?.activity ?? base.activity,
			statusMessage: base.statusMessage === null ? null : structuredClone(base.statusMessage),
			outOfOfficeSettings: { ...base.outOfOfficeSettings },
			workLocation,
		};
	}

	/** Live sessions, newest first. */
	sessionsOf(user: EmulatedUser, now: number): PresenceSession[] {
		this.prune(user, now);
		return [...(this.sessions.get(user.id)?.values() ?? [])]
			.sort((a, b) => b.order - a.order)
			.map((s) => ({
				sessionId: s.sessionId,
				availability: s.availability,
				activity: s.activity,
				expirationDuration: s.expirationDuration,
				setDateTime: new Date(s.setAt).toISOString(),
				expiryDateTime: new Date(s.expiresAt).toISOString(),
			}));
	}

	preferredOf(user: EmulatedUser, now: number): PreferredPresence | undefined {
		this.prune(user, now);
		const p = this.preferred.get(user.id);
		if (p === undefined) return undefined;
		return {
			availability: p.availability,
			activity: p.activity,
			expirationDuration: p.expirationDuration,
			setDateTime: new Date(p.setAt).toISOString(),
			expiryDateTime: p.expiresAt === null ? null : new Date(p.expiresAt).toISOString(),
		};
	}

	/** Creates or replaces (and makes newest) the session with this id, compared case-insensitively. */
	setSession(
		user: EmulatedUser,
		session: {
			sessionId: string;
			availability: string;
			activity: string;
			expirationDuration: string;
			durationMs: number;
		},
		now: number,
	): void {
		this.prune(user, now);
		let mine = this.sessions.get(user.id);
		if (mine === undefined) {
			mine = new Map();
			this.sessions.set(user.id, mine);
		}
		this.sessionOrder += 1;
		mine.set(session.sessionId.toLowerCase(), {
			sessionId: session.sessionId,
			availability: session.availability,
			activity: session.activity,
			expirationDuration: session.expirationDuration,
			setAt: now,
			expiresAt: now + session.durationMs,
			order: this.sessionOrder,
		});
		this.touch(user);
	}

	/** false when there is no live session with this id (nothing changes then). */
	clearSession(user: EmulatedUser, sessionId: string, now: number): boolean {
		this.prune(user, now);
		const removed = this.sessions.get(user.id)?.delete(sessionId.toLowerCase()) ?? false;
		if (removed) this.touch(user);
		return removed;
	}

	setPreferred(
		user: EmulatedUser,
		pref: {
			availability: string;
			activity: string;
			expirationDuration: string | null;
			durationMs: number | null;
		},
		now: number,
	): void {
		this.prune(user, now);
		this.preferred.set(user.id, {
			availability: pref.availability,
			activity: pref.activity,
			expirationDuration: pref.expirationDuration,
			setAt: now,
			expiresAt: pref.durationMs === null ? null : now + pref.durationMs,
		});
		this.touch(user);
	}

	clearPreferred(user: EmulatedUser, now: number): void {
		this.prune(user, now);
		this.preferred.delete(user.id);
		this.touch(user);
	}

	/** null clears the status message. */
	setStatusMessage(user: EmulatedUser, message: PresenceStatusMessage | null): void {
		this.setPresence(user.id, { statusMessage: message });
	}

	setWorkLocation(
		user: EmulatedUser,
		layer: WorkLocationLayer,
		location: { workLocationType: string; placeId: string | null },
	): void {
		const layers = this.locations.get(user.id) ?? {};
		layers[layer] = {
			workLocationType: location.workLocationType,
			source: layer,
			placeId: location.placeId,
		};
		this.locations.set(user.id, layers);
		this.touch(user);
	}

	clearWorkLocation(user: EmulatedUser, layers: readonly WorkLocationLayer[]): void {
		const mine = this.locations.get(user.id);
		if (mine !== undefined) for (const layer of layers) delete mine[layer];
		this.touch(user);
	}

	/** Drops the user's expired sessions and preferred presence now (what every read does lazily). */
	expire(user: EmulatedUser, now: number): void {
		this.prune(user, now);
	}

	private newestSession(userId: string): StoredSession | undefined {
		let newest: StoredSession | undefined;
		for (const s of this.sessions.get(userId)?.values() ?? [])
			if (newest === undefined || s.order > newest.order) newest = s;
		return newest;
	}

	private prune(user: EmulatedUser, now: number): void {
		let changed = false;
		const mine = this.sessions.get(user.id);
		if (mine !== undefined) {
			for (const [key, s] of mine) {
				if (s.expiresAt <= now) {
					mine.delete(key);
					changed = true;
				}
			}
		}
		const pref = this.preferred.get(user.id);
		if (pref !== undefined && pref.expiresAt !== null && pref.expiresAt <= now) {
			this.preferred.delete(user.id);
			changed = true;
		}
		if (changed) this.touch(user);
	}

	private touch(user: EmulatedUser): void {
		user.presence = { ...user.presence, sequenceNumber: this.nextSequenceNumber(user.id) };
		this.onChange?.(user);
	}

	// ---- groups ----

	get groups(): readonly EmulatedGroup[] {
		return this.groupList.map((g) => ({ id: g.id, displayName: g.displayName }));
	}

	getGroup(id: string): EmulatedGroup | undefined {
		const g = this.groupIndex.get(id.toLowerCase());
		return g === undefined ? undefined : { id: g.id, displayName: g.displayName };
	}

	addGroup(options: GroupOptions): EmulatedGroup {
		const { displayName, members, nonUserMembers = 0 } = options;
		if (typeof displayName !== 'string' || displayName === '')
			throw new Error('addGroup needs a displayName');
		if (!Number.isInteger(nonUserMembers) || nonUserMembers < 0)
			throw new RangeError(
				`addGroup: nonUserMembers must be a whole number >= 0, got ${nonUserMembers}`,
			);
		const n = this.groupList.length + 1;
		const group: StoredGroup = {
			id: deterministicGuid('graph-emulator-group', this.seed, n),
			displayName,
			members: [],
		};
		const resolved = this.resolveMembers(members, 'addGroup');
		const others: DirectoryObject[] = [];
		for (let i = 0; i < nonUserMembers; i++) {
			this.nonUserCount += 1;
			const k = this.nonUserCount;
			const kind = i % 2 === 0 ? 'device' : 'orgContact';
			others.push({
				kind,
				id: deterministicGuid('graph-emulator-object', this.seed, k),
				displayName: kind === 'device' ? `Device ${k}` : `Contact ${k}`,
				n: k,
			});
		}
		// Spread the non-user objects evenly through the members, so a page of users is never "pure".
		let placed = 0;
		resolved.forEach((member, i) => {
			group.members.push(member);
			const due = Math.floor(((i + 1) * others.length) / resolved.length);
			while (placed < due) group.members.push(others[placed++]);
		});
		while (placed < others.length) group.members.push(others[placed++]);
		this.groupList.push(group);
		this.groupIndex.set(group.id, group);
		return { id: group.id, displayName };
	}

	/** Adds members to an existing group (which may create a cycle; listing is cycle-safe). Duplicates are ignored. */
	addGroupMembers(groupId: string, members: string[]): void {
		const group = this.groupIndex.get(groupId.toLowerCase());
		if (group === undefined) throw new Error(`addGroupMembers: no emulated group '${groupId}'`);
		for (const member of this.resolveMembers(members, 'addGroupMembers')) {
			if (!group.members.some((m) => m.id === member.id)) group.members.push(member);
		}
	}

	/**
	 * Every member below the group, nested groups included as objects of their own and expanded, depth first,
	 * each object once; the group itself is never its own member, whatever cycles there are. undefined: no such group.
	 */
	transitiveMembers(groupId: string): DirectoryObject[] | undefined {
		const root = this.groupIndex.get(groupId.toLowerCase());
		if (root === undefined) return undefined;
		const out: DirectoryObject[] = [];
		const seen = new Set<string>([root.id]);
		const stack: DirectoryObject[][] = [[...root.members].reverse()];
		// Iterative, so a very deep nesting cannot overflow the call stack.
		while (stack.length > 0) {
			const top = stack[stack.length - 1];
			const next = top.pop();
			if (next === undefined) {
				stack.pop();
				continue;
			}
			if (seen.has(next.id)) continue;
			seen.add(next.id);
			out.push(next);
			if (next.kind === 'group') {
				const nested = this.groupIndex.get(next.id);
				if (nested !== undefined) stack.push([...nested.members].reverse());
			}
		}
		return out;
	}

	private resolveMembers(members: unknown, caller: string): DirectoryObject[] {
		if (!Array.isArray(members))
			throw new Error(`${caller}: members must be an array of user or group ids`);
		const out: DirectoryObject[] = [];
		for (const ref of members) {
			if (typeof ref !== 'string')
				throw new Error(`${caller}: member ${JSON.stringify(ref)} is not a string`);
			const user = this.get(ref);
			const group = user === undefined ? this.groupIndex.get(ref.toLowerCase()) : undefined;
			let member: DirectoryObject;
			if (user !== undefined) member = { kind: 'user', id: user.id, user };
			else if (group !== undefined)
				member = {
					kind: 'group',
					id: group.id,
					group: { id: group.id, displayName: group.displayName },
				};
			else
				throw new Error(`${caller}: '${ref}' is neither an emulated user nor a group added before`);
			if (!out.some((m) => m.id === member.id)) out.push(member);
		}
		return out;
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
