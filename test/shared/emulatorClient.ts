import type { GraphEmulator } from '../emulator';
import { asRecord, str } from './json';

/**
 * A client app talking HTTP to the Graph emulator, for the emulator's own tests: one app registered with a client
 * secret, its app and delegated tokens, and Graph calls whose JSON answers are read back.
 */

export const TENANT = '0f1e2d3c-4b5a-4987-a6b5-c4d3e2f1a0b9';
export const CLIENT = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
export const SECRET = 'emuSecret~value.With_Chars-123';
export const SCOPE = 'https://graph.example.test/.default';
/** Nothing listens there: the sign-in reads the code from the authorize answer's Location header. */
const REDIRECT_URI = 'http://127.0.0.1:1/cb';

export interface Reply {
	status: number;
	headers: Headers;
	text: string;
	/** The JSON object answered, `{}` for an empty body. */
	body: Record<string, unknown>;
}

export interface GraphInit {
	/** Default: GET without a body, POST with one. */
	method?: string;
	body?: unknown;
	headers?: Record<string, string>;
}

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
	const res = await fetch(url, init);
	const text = await res.text();
	return {
		status: res.status,
		headers: res.headers,
		text,
		body: text === '' ? {} : asRecord(JSON.parse(text)),
	};
}

/** Graph's error body: `{ error: { code, message } }`. */
export function graphError(res: Reply): { code: string; message: string } {
	const error = asRecord(res.body.error);
	return { code: str(error.code), message: str(error.message) };
}

/** The app the client signs in as (TENANT, CLIENT, SECRET). */
export function registerClient(emu: GraphEmulator): void {
	emu.registerApp({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
}

export interface EmulatorClient {
	/** A Graph call; `path` is below the emulator's URL unless it is a whole URL (a nextLink, say). */
	graph(token: string | undefined, path: string, init?: GraphInit): Promise<Reply>;
	post(token: string, path: string, body?: unknown): Promise<Reply>;
	/** A form POST to the token endpoint. */
	tokenRequest(
		fields: Record<string, string>,
		headers?: Record<string, string>,
		tenant?: string,
	): Promise<Reply>;
	/** A client-credentials token; fails unless the endpoint answers 200. */
	appToken(clientId?: string, secret?: string): Promise<string>;
	/** The authorization-code flow, as the emulator's signed-in user. */
	signIn(clientId?: string): Promise<{ access: string; refresh: string }>;
}

/** `current` is read at every call, so one client serves a test file that starts a new emulator before each test. */
export function emulatorClient(current: () => GraphEmulator): EmulatorClient {
	const graph: EmulatorClient['graph'] = (token, path, init = {}) => {
		const headers: Record<string, string> = { ...init.headers };
		if (token !== undefined) headers.Authorization = `Bearer ${token}`;
		if (init.body !== undefined) headers['Content-Type'] = 'application/json';
		return call(path.startsWith('http') ? path : `${current().url}${path}`, {
			method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
			headers,
			body: init.body === undefined ? undefined : JSON.stringify(init.body),
		});
	};

	const tokenRequest: EmulatorClient['tokenRequest'] = (fields, headers = {}, tenant = TENANT) =>
		call(`${current().loginBaseUrl}/${tenant}/oauth2/v2.0/token`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
			body: new URLSearchParams(fields).toString(),
		});

	return {
		graph,
		tokenRequest,
		post: (token, path, body) => graph(token, path, { method: 'POST', body }),

		async appToken(clientId = CLIENT, secret = SECRET) {
			const res = await tokenRequest({
				grant_type: 'client_credentials',
				client_id: clientId,
				client_secret: secret,
				scope: SCOPE,
			});
			if (res.status !== 200) throw new Error(`no app token: ${res.status} ${res.text}`);
			return str(res.body.access_token);
		},

		async signIn(clientId = CLIENT) {
			const authorize = await fetch(
				`${current().loginBaseUrl}/${TENANT}/oauth2/v2.0/authorize?client_id=${clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
				{ redirect: 'manual' },
			);
			const code = str(new URL(str(authorize.headers.get('location'))).searchParams.get('code'));
			const res = await tokenRequest({
				grant_type: 'authorization_code',
				code,
				client_id: clientId,
				client_secret: SECRET,
				redirect_uri: REDIRECT_URI,
			});
			return { access: str(res.body.access_token), refresh: str(res.body.refresh_token) };
		},
	};
}
