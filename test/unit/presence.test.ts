import { indexById, isPresenceList, simplifyPresence } from '../../nodes/shared/presence/presence';
import { readGraphError } from '../../nodes/shared/transport/errors';
import { resolveCloud } from '../../nodes/shared/transport/clouds';

describe('presence helpers', () => {
	it('indexes by id case-insensitively, whatever the order', () => {
		const index = indexById([{ id: 'B-ID' }, { id: 'a-id' }]);
		expect(index.get('b-id')?.id).toBe('B-ID');
		expect(index.get('a-id')?.id).toBe('a-id');
	});

	it('admits only well-formed presence lists', () => {
		expect(isPresenceList({ value: [{ id: 'x', availability: 'Available' }] })).toBe(true);
		expect(isPresenceList({ value: [{ availability: 'Available' }] })).toBe(false);
		expect(isPresenceList('{"value": [')).toBe(false);
	});

	it('reads Graph error bodies', () => {
		expect(
			readGraphError({
				error: { code: 'Forbidden', message: 'no', innerError: { 'request-id': 'r1', date: 'd' } },
			}),
		).toEqual({ code: 'Forbidden', message: 'no', requestId: 'r1', date: 'd' });
		expect(readGraphError('<html>')).toBeUndefined();
	});

	it('simplifies, passing unknown values through', () => {
		expect(
			simplifyPresence({
				id: 'x',
				availability: 'Focusing',
				activity: 'InAMeeting',
				statusMessage: { message: { content: 'Back at 3', contentType: 'text' } },
				outOfOfficeSettings: { isOutOfOffice: true, message: 'Away' },
				workLocation: { workLocationType: 'remote' },
				sequenceNumber: 'C78',
			}),
		).toEqual({
			id: 'x',
			availability: 'Focusing',
			activity: 'InAMeeting',
			statusMessage: 'Back at 3',
			isOutOfOffice: true,
			outOfOfficeMessage: 'Away',
			workLocation: 'remote',
			sequenceNumber: 'C78',
		});
		expect(simplifyPresence({ id: 'y' })).toMatchObject({
			availability: null,
			isOutOfOffice: false,
			statusMessage: null,
		});
	});
});

describe('resolveCloud', () => {
	it('maps each national cloud to its Graph and login hosts', () => {
		expect(resolveCloud('usGovL5', '', '')).toEqual({
			ok: true,
			endpoints: {
				graphBaseUrl: 'https://dod-graph.microsoft.us',
				loginBaseUrl: 'https://login.microsoftonline.us',
			},
		});
		expect(resolveCloud(undefined, '', '')).toMatchObject({
			ok: true,
			endpoints: { graphBaseUrl: 'https://graph.microsoft.com' },
		});
	});
	it('takes custom URLs, plain http included, without trailing slashes', () => {
		expect(resolveCloud('custom', 'http://127.0.0.1:9/', 'http://127.0.0.1:9/login/')).toEqual({
			ok: true,
			endpoints: { graphBaseUrl: 'http://127.0.0.1:9', loginBaseUrl: 'http://127.0.0.1:9/login' },
		});
	});
	it('says what is wrong', () => {
		expect(resolveCloud('custom', '', 'x')).toEqual({
			ok: false,
			message: 'Graph Base URL is required when the cloud is Custom',
		});
		expect(resolveCloud('custom', 'ftp://x', 'http://y')).toMatchObject({ ok: false });
		expect(resolveCloud('mars', '', '')).toEqual({ ok: false, message: 'Unknown cloud "mars"' });
	});
});
