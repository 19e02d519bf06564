/**
 * User ids as users type them: one id, several separated by commas, semicolons, white space or new
 * lines, or an array. Presence endpoints only take Entra object ids (GUIDs); UPNs and e-mail
 * addresses have to be resolved first, so each value is classified here.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Guest UPNs look like `jane_contoso.com#EXT#@tenant.onmicrosoft.com`, so anything but white space
// and a second `@` is allowed on either side.
const UPN = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
const SEPARATORS = /[\s,;]+/;
const SEPARATOR = /[\s,;]/;

export type UserRef =
	| { kind: 'guid'; value: string; key: string }
	| { kind: 'upn'; value: string; key: string }
	/** The signed-in user (delegated writes go to /me); only where the caller allows it. */
	| { kind: 'me'; value: 'me'; key: 'me' };

export type ParsedIds =
	| { ok: true; refs: UserRef[] }
	| { ok: false; message: string; value: unknown };

export function isGuid(value: string): boolean {
	return GUID.test(value);
}

/**
 * Classifies one trimmed value; `key` is what duplicates are detected by (ids are
 * case-insensitive).
 */
export function classifyUserRef(raw: string): UserRef | undefined {
	let value = raw.trim();
	if (value.startsWith('{') && value.endsWith('}')) value = value.slice(1, -1);
	if (GUID.test(value)) {
		const lower = value.toLowerCase();
		return { kind: 'guid', value: lower, key: lower };
	}
	if (UPN.test(value)) return { kind: 'upn', value, key: value.toLowerCase() };
	return undefined;
}

function splitValues(
	value: unknown,
): { ok: true; parts: string[] } | { ok: false; value: unknown } {
	if (typeof value === 'string') {
		if (!SEPARATOR.test(value)) return { ok: true, parts: value.length > 0 ? [value] : [] };
		return { ok: true, parts: value.split(SEPARATORS).filter((part) => part.length > 0) };
	}
	if (Array.isArray(value)) {
		const parts: string[] = [];
		for (const entry of value) {
			if (typeof entry !== 'string') return { ok: false, value: entry };
			// Most entries are one id each: splitting them (a regex split, a filter and a spread per entry)
			// is what made a list of 100,000 ids slow.
			if (!SEPARATOR.test(entry)) {
				if (entry.length > 0) parts.push(entry);
				continue;
			}
			for (const part of entry.split(SEPARATORS)) if (part.length > 0) parts.push(part);
		}
		return { ok: true, parts };
	}
	return { ok: false, value };
}

/**
 * Parses a list of user ids; the first bad value makes the whole list an error that names that
 * value.
 */
export function parseUserIds(value: unknown, options: { allowMe?: boolean } = {}): ParsedIds {
	const split = splitValues(value);
	if (!split.ok) {
		return {
			ok: false,
			message: `User IDs must be text or a list of texts, got ${describeValue(split.value)}`,
			value: split.value,
		};
	}
	if (split.parts.length === 0) {
		return { ok: false, message: 'No user ID given', value };
	}
	const refs: UserRef[] = [];
	for (const part of split.parts) {
		if (options.allowMe && part.toLowerCase() === 'me') {
			refs.push({ kind: 'me', value: 'me', key: 'me' });
			continue;
		}
		const ref = classifyUserRef(part);
		if (!ref) {
			return {
				ok: false,
				message: `"${truncate(part)}" is neither a user object ID (GUID) nor a user principal name / e-mail address`,
				value: part,
			};
		}
		refs.push(ref);
	}
	return { ok: true, refs };
}

/** Parses exactly one user id (Get User). */
export function parseSingleUserId(
	value: unknown,
): { ok: true; ref: UserRef } | { ok: false; message: string; value: unknown } {
	if (typeof value !== 'string') {
		return { ok: false, message: `User ID must be text, got ${describeValue(value)}`, value };
	}
	if (value.trim() === '') return { ok: false, message: 'No user ID given', value };
	const ref = classifyUserRef(value);
	if (!ref) {
		return {
			ok: false,
			message: `"${truncate(value.trim())}" is neither a user object ID (GUID) nor a user principal name / e-mail address`,
			value,
		};
	}
	return { ok: true, ref };
}

export function describeValue(value: unknown): string {
	if (value === null) return 'null';
	if (value === undefined) return 'nothing';
	if (Array.isArray(value)) return 'a list';
	if (typeof value === 'object') return `an object (${truncate(JSON.stringify(value))})`;
	if (typeof value === 'string') return `"${truncate(value)}"`;
	return `${typeof value} ${String(value)}`;
}

function truncate(text: string, max = 80): string {
	return text.length > max ? `${text.slice(0, max)}…` : text;
}
