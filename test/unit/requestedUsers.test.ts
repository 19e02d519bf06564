import { classifyUserRef, type UserRef } from '../../nodes/shared/users/ids';
import {
	gatherUsers,
	mergeByObjectId,
	type Resolution,
} from '../../nodes/shared/users/requestedUsers';

const ref = (value: string): UserRef => {
	const classified = classifyUserRef(value);
	if (!classified) throw new Error(value);
	return classified;
};
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** A directory as the resolver would answer it: names → object ids, anything else unknown. */
const directory =
	(names: Record<string, string>, failing: string[] = []) =>
	(user: UserRef): Resolution<string> => {
		if (user.kind !== 'upn') return { id: user.value };
		if (failing.includes(user.key)) return { error: `lookup of ${user.key} failed` };
		const found = names[user.key];
		return found ? { id: found } : { notFound: true, reason: 'nobody' };
	};

describe('mergeByObjectId', () => {
	it('keeps GUID-only input as it is: one user per id, in order, askers unchanged', () => {
		const requested = gatherUsers([
			{ itemIndex: 0, refs: [ref(id(2)), ref(id(1))] },
			{ itemIndex: 1, refs: [ref(id(1))] },
		]);
		const { users, unresolved } = mergeByObjectId(requested, directory({}));
		expect(users).toEqual([
			{ id: id(2), itemIndexes: [0] },
			{ id: id(1), itemIndexes: [0, 1] },
		]);
		expect(unresolved).toEqual([]);
	});

	it('merges a user named by GUID and by two names under the object id, askers in input order', () => {
		const requested = gatherUsers([
			{ itemIndex: 0, refs: [ref('jane@contoso.com')] },
			{ itemIndex: 1, refs: [ref(id(7)), ref(id(8))] },
			{ itemIndex: 2, refs: [ref('Jane.Doe@contoso.com')] },
			{ itemIndex: 3, refs: [ref(id(7).toUpperCase())] },
		]);
		const names = { 'jane@contoso.com': id(7), 'jane.doe@contoso.com': id(7) };
		const { users } = mergeByObjectId(requested, directory(names));
		expect(users).toEqual([
			{ id: id(7), itemIndexes: [0, 1, 2, 3] },
			{ id: id(8), itemIndexes: [1] },
		]);
	});

	it('reports names that found nobody or whose lookup failed, with their askers, and reads the rest', () => {
		const requested = gatherUsers([
			{ itemIndex: 0, refs: [ref('ghost@contoso.com'), ref(id(1))] },
			{ itemIndex: 1, refs: [ref('broken@contoso.com'), ref('ghost@contoso.com')] },
		]);
		const { users, unresolved } = mergeByObjectId(requested, directory({}, ['broken@contoso.com']));
		expect(users).toEqual([{ id: id(1), itemIndexes: [0] }]);
		expect(
			unresolved.map(({ user, result }) => [user.ref.value, user.itemIndexes, result]),
		).toEqual([
			['ghost@contoso.com', [0, 1], { notFound: true, reason: 'nobody' }],
			['broken@contoso.com', [1], { error: 'lookup of broken@contoso.com failed' }],
		]);
	});
});
