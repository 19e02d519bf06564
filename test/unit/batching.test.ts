import { chunk, MAX_IDS_PER_REQUEST } from '../../nodes/shared/presence/batching';
import { gatherUsers } from '../../nodes/shared/users/requestedUsers';
import { classifyUserRef, type UserRef } from '../../nodes/shared/users/ids';

const ref = (value: string): UserRef => {
	const classified = classifyUserRef(value);
	if (!classified) throw new Error(value);
	return classified;
};
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('gatherUsers', () => {
	it('de-duplicates case-insensitively and remembers every item that asked', () => {
		const users = gatherUsers([
			{ itemIndex: 0, refs: [ref(id(1)), ref(id(2)), ref(id(1))] },
			{ itemIndex: 1, refs: [ref(id(2).toUpperCase()), ref('Jane@contoso.com')] },
			{ itemIndex: 3, refs: [ref('jane@CONTOSO.com'), ref(id(1))] },
		]);
		expect(users.map((user) => [user.ref.key, user.itemIndexes])).toEqual([
			[id(1), [0, 3]],
			[id(2), [0, 1]],
			['jane@contoso.com', [1, 3]],
		]);
	});
});

describe('chunk', () => {
	it('splits into groups of at most the size, keeping order', () => {
		const values = Array.from({ length: 2000 }, (_, i) => i);
		const chunks = chunk(values, MAX_IDS_PER_REQUEST);
		expect(chunks.map((c) => c.length)).toEqual([650, 650, 650, 50]);
		expect(chunks.flat()).toEqual(values);
	});
	it('gives no chunk for no values and refuses a size below one', () => {
		expect(chunk([], 650)).toEqual([]);
		expect(() => chunk([1], 0)).toThrow(RangeError);
	});
});
