import { NodeOperationError, type IDataObject, type INodeExecutionData, type IPollFunctions } from 'n8n-workflow';

import { clientOptions } from '../shared/descriptions';
import { parseUserIds } from '../shared/logic/ids';
import { simplifyPresence, type Presence } from '../shared/logic/presence';
import {
	diffPresences,
	forgetUnwatched,
	view,
	type PresenceChange,
	type PresenceState,
	type PresenceView,
	type WatchedField,
} from '../shared/logic/presenceDiff';
import { asNodeError, GraphClient, type Authentication } from '../shared/transport/graphClient';

/** User principal names are looked up again after this long (people rename; object ids never change). */
const NAME_LOOKUP_TTL_MS = 24 * 60 * 60 * 1000;

/** What the trigger keeps between polls, in the workflow's static data for this node. */
interface TriggerState extends IDataObject {
	users?: PresenceState;
	/** upn (lower case) → object id and when it was looked up. */
	names?: Record<string, { id: string; at: number }>;
	/** The watched group's members and when they were read. */
	group?: { key: string; ids: string[]; at: number };
}

interface TriggerOptions {
	alsoWatch?: WatchedField[];
	toAvailability?: string[];
	fromAvailability?: string[];
	emitOnActivation?: boolean;
	[key: string]: unknown;
}

/**
 * One poll: read everyone's presence (650 a request, under the shared throttle), compare with the last good state,
 * emit one item per change. A failed poll in an active workflow is logged and changes nothing, so the next good
 * poll reports exactly what changed since the last good one.
 */
export async function pollPresence(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const manual = this.getMode() === 'manual';
	try {
		return await poll.call(this, manual);
	} catch (error) {
		if (manual) throw asNodeError(this.getNode(), error);
		this.logger.warn(`Microsoft Graph Presence Trigger: poll failed, will compare against the last good poll next time: ${error instanceof Error ? error.message : String(error)}`);
		return null;
	}
}

async function poll(this: IPollFunctions, manual: boolean): Promise<INodeExecutionData[][] | null> {
	const options = this.getNodeParameter('options', {}) as TriggerOptions;
	const triggerOn = this.getNodeParameter('triggerOn', 'anyChange') as string;
	const client = await GraphClient.create(this, this.getNodeParameter('authentication') as Authentication, clientOptions(options));
	const state = this.getWorkflowStaticData('node') as TriggerState;
	const now = Date.now();
	const observedAt = new Date(now).toISOString();

	let userIds: unknown;
	if (this.getNodeParameter('usersFrom', 'userIds') === 'group') {
		const group = String(this.getNodeParameter('group', '')).trim();
		if (!group) throw new NodeOperationError(this.getNode(), 'No group given');
		const refreshMs = Number(this.getNodeParameter('groupRefreshMinutes', 60)) * 60_000;
		const key = group.toLowerCase();
		let members = state.group?.key === key && now - state.group.at < refreshMs ? state.group.ids : undefined;
		if (!members) {
			members = await client.groupMemberIds(group);
			if (!manual) state.group = { key, ids: members, at: now };
		}
		// A group with no members watches nobody; that is not an input error.
		if (members.length === 0) return manual ? [[]] : null;
		userIds = members;
	} else {
		delete state.group;
		userIds = this.getNodeParameter('userIds');
	}
	const parsed = parseUserIds(userIds);
	if (!parsed.ok) {
		throw new NodeOperationError(this.getNode(), `User IDs: ${parsed.message}`, {
			description: 'Give Entra object IDs (GUIDs), user principal names or e-mail addresses, or a list of them.',
		});
	}

	// Object ids to watch: GUIDs as given, names through a cache in the static data.
	const names = manual ? { ...state.names } : (state.names ??= {});
	const ids = new Set<string>();
	const lookups: string[] = [];
	for (const ref of parsed.refs) {
		if (ref.kind === 'guid') ids.add(ref.value);
		else if (names[ref.key] && now - names[ref.key].at < NAME_LOOKUP_TTL_MS) ids.add(names[ref.key].id);
		else lookups.push(ref.value);
	}
	if (lookups.length > 0) {
		const resolved = await client.resolveUserIds(lookups);
		for (const [key, user] of resolved) {
			if ('id' in user) {
				names[key] = { id: user.id, at: now };
				ids.add(user.id);
			} else if ('error' in user) {
				throw user.error;
			} else {
				delete names[key];
				if (manual) throw new NodeOperationError(this.getNode(), `No user "${key}" in this tenant`);
				this.logger.warn(`Microsoft Graph Presence Trigger: no user "${key}" in this tenant; not watched`);
			}
		}
	}
	const watchedNames = new Set(parsed.refs.filter((ref) => ref.kind === 'upn').map((ref) => ref.key));
	for (const key of Object.keys(names)) if (!watchedNames.has(key)) delete names[key];

	const presences: Presence[] = [];
	const failures: Error[] = [];
	for (const batch of await client.getManyPresences([...ids])) {
		if (batch.result instanceof Error) failures.push(batch.result);
		else presences.push(...batch.result.filter((presence) => ids.has(presence.id.toLowerCase())));
	}
	if (failures.length > 0 && (manual || presences.length === 0)) throw failures[0];
	// Graph answers in any order; items follow the order the user listed people in.
	const order = new Map([...ids].map((id, index) => [id, index]));
	presences.sort((x, y) => (order.get(x.id.toLowerCase()) ?? 0) - (order.get(y.id.toLowerCase()) ?? 0));
	if (failures.length > 0) {
		this.logger.warn(`Microsoft Graph Presence Trigger: ${failures.length} of the poll's requests failed (${failures[0].message}); those users are compared again next poll`);
	}

	if (manual) {
		// "Fetch Test Event": everyone's current presence, to build the rest of the workflow with.
		const users = state.users ?? {};
		return [presences.map((presence) => item(presence, users[presence.id.toLowerCase()] ? view(users[presence.id.toLowerCase()]) : null, [], observedAt, 'current'))];
	}

	const firstPoll = state.users === undefined;
	const users = (state.users ??= {});
	if (failures.length === 0) forgetUnwatched(users, ids);
	const fields: WatchedField[] = [
		...(triggerOn === 'availabilityChanged' ? ['availability' as const] : triggerOn === 'activityChanged' ? ['activity' as const] : ['availability' as const, 'activity' as const]),
		...(options.alsoWatch ?? []),
	];
	const diff = diffPresences(users, presences, { fields, toAvailability: options.toAvailability, fromAvailability: options.fromAvailability }, observedAt);

	const out: INodeExecutionData[] = diff.changes.map((change) => changeItem(change));
	if (firstPoll && options.emitOnActivation) {
		out.push(...presences.map((presence) => item(presence, null, [], observedAt, 'current')));
	}
	return out.length > 0 ? [out] : null;
}

function changeItem(change: PresenceChange): INodeExecutionData {
	return item(change.presence, change.previous, change.changed, change.observedAt, 'changed');
}

function item(
	presence: Presence,
	previous: PresenceView | null,
	changed: WatchedField[],
	observedAt: string,
	event: 'changed' | 'current',
): INodeExecutionData {
	return {
		json: {
			...simplifyPresence(presence),
			event,
			changed,
			previous: previous ? { ...previous } : null,
			observedAt,
			presence: presence as IDataObject,
		},
	};
}

