import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
	return GUID_RE.test(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type Rng = () => number;

/** mulberry32: tiny and deterministic; quality is plenty for shuffles and fault draws. */
export function createRng(seed: number): Rng {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Fisher-Yates, in place. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
	for (let i = items.length - 1; i > 0; i--) {
		const j = Math.floor(rng() * (i + 1));
		[items[i], items[j]] = [items[j], items[i]];
	}
	return items;
}

/**
 * Hash-derived rather than drawn from a stream, so user N gets the same id however the users were
 * added (addUsers(10) equals addUsers(5) twice). Shaped as a v4 GUID like real Entra object ids.
 */
export function deterministicGuid(...parts: Array<string | number>): string {
	const h = createHash('sha256').update(parts.join(':')).digest('hex');
	const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value === undefined) continue;
		out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
	}
	return out;
}

/** Keeps the scheme so a log reader can still tell Bearer from Basic. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
	const out = { ...headers };
	if (out.authorization !== undefined) {
		const scheme = out.authorization.split(' ')[0] || 'Bearer';
		out.authorization = `${scheme} <redacted>`;
	}
	return out;
}

export function queryToRecord(params: URLSearchParams): Record<string, string> {
	const out: Record<string, string> = {};
	params.forEach((value, key) => {
		out[key] = value;
	});
	return out;
}

/** Graph's innerError.date format: ISO 8601 without milliseconds or zone suffix. */
export function graphDate(now = Date.now()): string {
	return new Date(now).toISOString().slice(0, 19);
}
