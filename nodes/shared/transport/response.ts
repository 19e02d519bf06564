import { isRecord } from '../guards';

/**
 * What came back from one attempt, read the same way whichever way n8n's HTTP helper delivered it:
 * a full response (the application credential asks for one), a thrown HTTP error (n8n's OAuth2 path
 * throws those), or a network failure. Only status, headers and body are kept: the request, whose
 * headers hold the token, is dropped.
 */

export interface RawResponse {
	statusCode: number;
	headers: Record<string, unknown>;
	body: unknown;
}

/** No usable HTTP answer: worth a retry, like a dropped connection. */
export interface TransportFailure {
	transportError: string;
}

export function readResponse(response: unknown): RawResponse | TransportFailure {
	if (!isRecord(response) || typeof response.statusCode !== 'number') {
		return { transportError: 'the answer had no HTTP status' };
	}
	return {
		statusCode: response.statusCode,
		headers: isRecord(response.headers) ? response.headers : {},
		body: response.body,
	};
}

/**
 * What a thrown request error says: an HTTP answer, a network failure, or undefined for anything
 * else (a refresh that failed, a bug: not retried).
 */
export function readFailure(error: unknown): RawResponse | TransportFailure | undefined {
	return readCauses(error) ?? readBareNodeApiError(error);
}

function readCauses(error: unknown): RawResponse | TransportFailure | undefined {
	for (
		let current: unknown = error, depth = 0;
		isRecord(current) && depth < 5;
		current = current.cause, depth++
	) {
		const response = current.response;
		if (isRecord(response) && typeof response.status === 'number') {
			return {
				statusCode: response.status,
				headers: isRecord(response.headers) ? { ...response.headers } : {},
				body: parseBody(response.data ?? response.body),
			};
		}
		const code = typeof current.code === 'string' ? current.code : undefined;
		if (
			current.isAxiosError === true ||
			current.name === 'AxiosError' ||
			(code && NETWORK_ERROR_CODES.has(code))
		) {
			const message = typeof current.message === 'string' ? current.message.split('\n')[0] : '';
			return {
				transportError: [code, message].filter((part) => part).join(' ') || 'network error',
			};
		}
	}
	return undefined;
}

/**
 * n8n 1.x's NodeApiError (n8n-workflow 1.x) does not keep the axios error it wraps (its `cause`
 * field is reset to undefined), so on the OAuth2 path the answer's headers are gone; what is left is
 * the status or network code in `httpCode` and the body in `context.data`. Enough to retry, to
 * refuse a redirect, and to show Graph's error; not enough for Retry-After or a redirect's target.
 */
function readBareNodeApiError(error: unknown): RawResponse | TransportFailure | undefined {
	if (!isRecord(error) || error.name !== 'NodeApiError' || typeof error.httpCode !== 'string')
		return undefined;
	const { httpCode } = error;
	if (/^[1-5]\d\d$/.test(httpCode)) {
		const context = isRecord(error.context) ? error.context : {};
		return { statusCode: Number(httpCode), headers: {}, body: parseBody(context.data) };
	}
	if (NETWORK_ERROR_CODES.has(httpCode)) return { transportError: httpCode };
	return undefined;
}

const NETWORK_ERROR_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ERR_BAD_RESPONSE',
	'ERR_STREAM_PREMATURE_CLOSE',
	'UND_ERR_SOCKET',
]);

function parseBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	try {
		return JSON.parse(body);
	} catch {
		return body;
	}
}

/** A header by name, whatever its case; the first value of a repeated one. */
export function headerValue(headers: unknown, name: string): string | undefined {
	if (!isRecord(headers)) return undefined;
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() !== name) continue;
		return Array.isArray(value)
			? String(value[0])
			: value === undefined
				? undefined
				: String(value);
	}
	return undefined;
}

/**
 * The answer to a write or a delete: Graph documents 200 or 204 with no body (some answer with an
 * object). A cut or garbled answer is not a success: it is retried like a dropped connection.
 */
export function isEmptyOrObject(body: unknown): body is unknown {
	return body === undefined || body === null || body === '' || isRecord(body);
}
