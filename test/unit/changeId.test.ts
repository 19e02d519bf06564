import { changeIdOf } from '../../nodes/shared/presence/changeId';

describe('changeIdOf', () => {
	const at = '2026-12-01T09:00:00.000Z';

	it("is the user (lower case) and Graph's sequence number, the same wherever it is made", () => {
		const presence = { id: 'AB12', availability: 'Busy', sequenceNumber: 'C0FFEE01' };
		expect(changeIdOf(presence, at)).toBe('ab12:C0FFEE01');
		expect(changeIdOf({ ...presence }, '2026-12-01T10:00:00.000Z')).toBe('ab12:C0FFEE01');
		expect(changeIdOf({ ...presence, sequenceNumber: 'C0FFEE02' }, at)).not.toBe('ab12:C0FFEE01');
	});

	it("uses the notification's digest for rich content, and the time when there is no version", () => {
		expect(changeIdOf({ id: 'ab12', sequenceNumber: 'old' }, at, 'f00d')).toBe('ab12:~f00d');
		expect(changeIdOf({ id: 'ab12', sequenceNumber: null }, at)).toBe(`ab12:@${at}`);
		expect(changeIdOf({ id: 'ab12', sequenceNumber: '' }, at)).toBe(`ab12:@${at}`);
	});
});
