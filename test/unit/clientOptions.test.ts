import type { INode } from 'n8n-workflow';

import {
	clientOptionFields,
	DEFAULT_CLIENT_OPTIONS,
	readClientOptions,
} from '../../nodes/shared/transport/options';

const node: INode = {
	id: 'n1',
	name: 'Presence',
	type: 'n8n-nodes-msgraph-presence.microsoftGraphPresence',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

describe('the Graph client options spec', () => {
	it('gives the editor the same defaults and bounds the check applies', () => {
		for (const field of clientOptionFields) {
			const name = field.name as keyof typeof DEFAULT_CLIENT_OPTIONS;
			expect(field.default).toBe(DEFAULT_CLIENT_OPTIONS[name]);
			if (field.type !== 'number') continue;
			const { minValue, maxValue } = field.typeOptions ?? {};
			expect(() => readClientOptions(node, { [name]: minValue })).not.toThrow();
			expect(() => readClientOptions(node, { [name]: maxValue })).not.toThrow();
			expect(() => readClientOptions(node, { [name]: Number(maxValue) + 1 })).toThrow(
				field.displayName,
			);
			expect(() => readClientOptions(node, { [name]: Number(minValue) - 1 })).toThrow(
				field.displayName,
			);
		}
	});

	it('fills in defaults, ignores options that are not the client’s, and keeps what is set', () => {
		expect(readClientOptions(node, { simplify: true, concurrency: 3 })).toEqual({
			...DEFAULT_CLIENT_OPTIONS,
			concurrency: 3,
		});
	});

	it('names every bad value at once', () => {
		expect(() =>
			readClientOptions(node, { apiVersion: 'v2', concurrency: 2.5, maxRequestsPer30Seconds: '9' }),
		).toThrow(
			'API Version must be v1.0 or beta, got "v2"; Concurrency must be a whole number from 1 to 64, got 2.5; Max Requests per 30 Seconds must be between 1 and 1500, got 9',
		);
	});
});
