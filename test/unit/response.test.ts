import { readFailure } from '../../nodes/shared/transport/response';

/**
 * readFailure reads the errors n8n's OAuth2 path throws. n8n 2.x's NodeApiError keeps the axios error
 * as its `cause` (headers included); n8n 1.x's (n8n-workflow 1.120) resets `cause` to undefined and keeps
 * only `httpCode` and the body in `context.data` (checked against n8n 1.123.81's own classes in the e2e
 * redirect test). Both must come out as the HTTP answer they were.
 */

const bareNodeApiError = (httpCode: string, data?: unknown) =>
	Object.assign(new Error('n8n message'), {
		name: 'NodeApiError',
		httpCode,
		context: data === undefined ? {} : { data },
		cause: undefined,
	});

describe('readFailure', () => {
	it("reads n8n 2.x's NodeApiError through its cause, headers included", () => {
		const axiosError = Object.assign(new Error('Request failed with status code 429'), {
			isAxiosError: true,
			response: { status: 429, headers: { 'retry-after': '7' }, data: { error: { code: 'x' } } },
		});
		const wrapped = Object.assign(new Error('The service is receiving too many requests'), {
			name: 'NodeApiError',
			httpCode: '429',
			cause: axiosError,
		});
		expect(readFailure(wrapped)).toEqual({
			statusCode: 429,
			headers: { 'retry-after': '7' },
			body: { error: { code: 'x' } },
		});
	});

	it("reads n8n 1.x's NodeApiError, which lost its cause: the status, and Graph's body", () => {
		const graphBody = { error: { code: 'TooManyRequests', message: 'slow down' } };
		expect(readFailure(bareNodeApiError('429', graphBody))).toEqual({
			statusCode: 429,
			headers: {},
			body: graphBody,
		});
		expect(readFailure(bareNodeApiError('302'))).toEqual({
			statusCode: 302,
			headers: {},
			body: undefined,
		});
		expect(readFailure(bareNodeApiError('ECONNRESET'))).toEqual({ transportError: 'ECONNRESET' });
	});

	it('leaves what is no HTTP answer alone', () => {
		expect(readFailure(bareNodeApiError('invalid_grant'))).toBeUndefined();
		expect(readFailure(new Error('a bug'))).toBeUndefined();
		expect(
			readFailure(Object.assign(new Error('x'), { name: 'NodeOperationError', httpCode: '500' })),
		).toBeUndefined();
	});
});
