import { classifyUserRef, parseSingleUserId, parseUserIds } from '../../nodes/shared/users/ids';

const A = '4562BCC8-C436-4F95-B7C0-4F8CE89DCA5E';
const B = '56d0a2b4-8b3a-4b8e-9a4e-0f2a9c1d7e11';

describe('parseUserIds', () => {
	it('splits on commas, semicolons, spaces and new lines, and lower-cases GUIDs', () => {
		const parsed = parseUserIds(
			`${A}, ${B};jane@contoso.com\n  x_y.com#EXT#@t.onmicrosoft.com\t${B}`,
		);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		expect(parsed.refs.map((ref) => [ref.kind, ref.value])).toEqual([
			['guid', A.toLowerCase()],
			['guid', B],
			['upn', 'jane@contoso.com'],
			['upn', 'x_y.com#EXT#@t.onmicrosoft.com'],
			['guid', B],
		]);
	});

	it('accepts arrays whose entries may themselves hold several ids', () => {
		const parsed = parseUserIds([A, `${B},jane@contoso.com`]);
		expect(parsed.ok && parsed.refs.map((ref) => ref.key)).toEqual([
			A.toLowerCase(),
			B,
			'jane@contoso.com',
		]);
	});

	it('reads a list entry by entry as it reads text: empty entries skipped, padded or combined entries split', () => {
		const list = ['', A, ` ${B}\n`, `{${A}}`, 'jane@contoso.com;', ' ', `${B} ${A}`];
		const fromList = parseUserIds(list);
		const fromText = parseUserIds(list.join(','));
		expect(fromList).toEqual(fromText);
		expect(fromList.ok && fromList.refs.map((ref) => ref.key)).toEqual([
			A.toLowerCase(),
			B,
			A.toLowerCase(),
			'jane@contoso.com',
			B,
			A.toLowerCase(),
		]);
		expect(parseUserIds(['', ' ', ',;'])).toMatchObject({ ok: false, message: 'No user ID given' });
		// A value that is not text is named even after an id that is not valid.
		expect(parseUserIds(['not-an-id', 7])).toMatchObject({
			ok: false,
			message: expect.stringContaining('got number 7'),
		});
	});

	it('accepts braces around a GUID', () => {
		expect(classifyUserRef(`{${A}}`)).toEqual({
			kind: 'guid',
			value: A.toLowerCase(),
			key: A.toLowerCase(),
		});
	});

	it.each([
		['', 'No user ID given'],
		['  ,; \n', 'No user ID given'],
		[[], 'No user ID given'],
		['4562bcc8-c436-4f95-b7c0-4f8ce89dca5', '"4562bcc8-c436-4f95-b7c0-4f8ce89dca5" is neither'],
		[`${A}, not-an-id`, '"not-an-id" is neither'],
		[42, 'got number 42'],
		[null, 'got null'],
		[{ id: A }, 'got an object'],
		[[A, 7], 'got number 7'],
	])('rejects %p with a message naming the value', (value, message) => {
		const parsed = parseUserIds(value);
		expect(parsed.ok).toBe(false);
		if (parsed.ok) return;
		expect(parsed.message).toContain(message);
	});

	it('handles 100,000 ids in one field', () => {
		const ids = Array.from(
			{ length: 100_000 },
			(_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
		);
		const parsed = parseUserIds(ids.join(','));
		expect(parsed.ok && parsed.refs.length).toBe(100_000);
	});
});

describe('parseSingleUserId', () => {
	it('takes one GUID or UPN', () => {
		expect(parseSingleUserId(` ${A} `)).toEqual({
			ok: true,
			ref: { kind: 'guid', value: A.toLowerCase(), key: A.toLowerCase() },
		});
		expect(parseSingleUserId('Jane@Contoso.com')).toEqual({
			ok: true,
			ref: { kind: 'upn', value: 'Jane@Contoso.com', key: 'jane@contoso.com' },
		});
	});
	it('rejects lists, numbers and garbage', () => {
		expect(parseSingleUserId(`${A},${B}`).ok).toBe(false);
		expect(parseSingleUserId(5).ok).toBe(false);
		expect(parseSingleUserId('jane').ok).toBe(false);
	});
});
