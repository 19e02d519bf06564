import { MicrosoftGraphPresence } from '../../nodes/MicrosoftGraphPresence/MicrosoftGraphPresence.node';
import { operations } from '../../nodes/MicrosoftGraphPresence/actions/router';

/** What the editor can offer must be what the node can run, and the names saved in workflows are fixed. */
describe('Microsoft Graph Presence description', () => {
	const description = new MicrosoftGraphPresence().description;
	const operation = description.properties.find((property) => property.name === 'operation');
	const offered = (operation?.options ?? []).map((option) =>
		'value' in option ? option.value : undefined,
	);

	it('offers every operation the router runs, and only those', () => {
		expect([...offered].sort()).toEqual(Object.keys(operations).sort());
	});

	it('keeps the operation values fixed by the issues', () => {
		expect(new Set(offered)).toEqual(
			new Set([
				'getMe',
				'get',
				'getMany',
				'setPresence',
				'clearPresence',
				'setPreferredPresence',
				'clearPreferredPresence',
				'setStatusMessage',
				'clearStatusMessage',
				'setWorkLocation',
				'clearWorkLocation',
			]),
		);
		expect(description.name).toBe('microsoftGraphPresence');
		expect(description.properties.map((property) => property.name)).toEqual(
			expect.arrayContaining(['authentication', 'operation', 'userId', 'userIds', 'options']),
		);
	});

	it("shows each operation's fields only for operations that exist", () => {
		for (const property of description.properties) {
			const shownFor = property.displayOptions?.show?.operation;
			if (shownFor) for (const value of shownFor) expect(offered).toContain(value);
		}
	});
});
