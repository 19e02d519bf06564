import type { Locator, Page, Response } from 'playwright-core';

/**
 * Small helpers for driving n8n's editor (Vue, Element Plus) with playwright-core, which has no `expect`:
 * waits throw on timeout, so a missing element fails the test. Selectors are n8n's own `data-test-id`s
 * (see `launchChromium`, which makes `getByTestId` use that attribute) and visible text.
 */

export const TIMEOUT = 30_000;

/** Polls until `check` returns a value that is not false/undefined, or throws with the last value seen. */
export async function eventually<T>(
	what: string,
	check: () => Promise<T | false | undefined>,
	timeoutMs = TIMEOUT,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value !== false && value !== undefined) return value;
		} catch (error) {
			lastError = error;
		}
		if (Date.now() > deadline)
			throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
		await new Promise((resolveWait) => setTimeout(resolveWait, 250));
	}
}

export async function signIn(
	page: Page,
	url: string,
	owner: { email: string; password: string },
): Promise<void> {
	await page.goto(`${url}/signin`);
	await page.getByTestId('emailOrLdapLoginId').locator('input').fill(owner.email);
	await page.getByTestId('password').locator('input').fill(owner.password);
	await page.getByTestId('form-submit-button').click();
	await page.waitForURL((target) => !target.pathname.startsWith('/signin'), { timeout: TIMEOUT });
	await dismissModals(page);
}

/**
 * Closes whatever modal n8n puts up on its own (onboarding, "what's new", surveys): any open Element Plus dialog
 * that is not one the test opened. With personalization off, none showed in 2.41.1 or 1.123.81; this is a guard.
 */
export async function dismissModals(page: Page, keep: string[] = []): Promise<string[]> {
	const dismissed: string[] = [];
	for (let round = 0; round < 3; round++) {
		await page.waitForTimeout(500);
		const dialogs = page.locator('.el-overlay:visible .el-dialog');
		const count = await dialogs.count();
		let closedOne = false;
		for (let index = 0; index < count; index++) {
			const dialog = dialogs.nth(index);
			const testId =
				(await dialog.getAttribute('data-test-id')) ??
				(await dialog
					.locator('[data-test-id]')
					.first()
					.getAttribute('data-test-id')
					.catch(() => null)) ??
				'dialog';
			if (keep.includes(testId)) continue;
			const close = dialog
				.locator('.el-dialog__headerbtn, [aria-label="Close"], [aria-label="Close this dialog"]')
				.first();
			if (await close.isVisible()) await close.click();
			else await page.keyboard.press('Escape');
			dismissed.push(testId);
			closedOne = true;
		}
		if (!closedOne) break;
	}
	return dismissed;
}

/** The option of the currently open Element Plus select (teleported to the body) whose name is exactly `name`. */
export function openSelectOption(page: Page, name: string): Locator {
	return page
		.locator('.el-select-dropdown__item:visible')
		.filter({ has: page.getByText(name, { exact: true }) });
}

/** The names of the options of the currently open Element Plus select. */
export async function openSelectOptionNames(page: Page): Promise<string[]> {
	const items = page.locator('.el-select-dropdown__item:visible');
	await items.first().waitFor({ state: 'visible', timeout: TIMEOUT });
	// An option of n8n's options parameter shows its name, then (in the same item) its description.
	return (await items.evaluateAll((elements) =>
		elements.map((element) => {
			const el = element as unknown as {
				querySelector: (s: string) => { textContent: string | null } | null;
				textContent: string | null;
			};
			const name = el.querySelector('.option-headline') ?? el;
			return (name.textContent ?? '').trim();
		}),
	)) as string[];
}

/** Closes the open Element Plus select without choosing, and waits until its options are gone (they fade out). */
export async function closeOpenSelect(page: Page): Promise<void> {
	await page.keyboard.press('Escape');
	await page
		.locator('.el-select-dropdown__item:visible')
		.first()
		.waitFor({ state: 'hidden', timeout: TIMEOUT });
}

/** Opens the select of parameter `name` inside `scope` and picks the option called `option`. */
export async function selectParameterOption(
	page: Page,
	scope: Locator,
	name: string,
	option: string,
): Promise<void> {
	const input = scope.getByTestId(`parameter-input-${name}`).locator('input').first();
	await input.click();
	await openSelectOption(page, option).click();
	await eventually(
		`parameter ${name} to show "${option}"`,
		async () => (await input.inputValue()) === option,
	);
	// Let the dropdown close (it fades out) and the dependent fields re-render.
	await page
		.locator('.el-select-dropdown__item:visible')
		.first()
		.waitFor({ state: 'hidden', timeout: TIMEOUT });
}

/** Names of the parameters shown in `scope` (from `parameter-input-<name>`), in screen order. */
export async function visibleParameterNames(scope: Locator): Promise<string[]> {
	const inputs = scope.locator('[data-test-id^="parameter-input-"]:visible');
	const ids = await inputs.evaluateAll((elements) =>
		elements.map(
			(element) =>
				(element as unknown as { getAttribute: (n: string) => string | null }).getAttribute(
					'data-test-id',
				) ?? '',
		),
	);
	return ids
		.map((id) => id.slice('parameter-input-'.length))
		.filter((name) => name !== 'field' && name !== '');
}

/** The label text of a parameter: first line of its container, without the required-field star. */
export async function parameterLabel(
	scope: Locator,
	container: string,
	name: string,
): Promise<string> {
	const item = scope
		.getByTestId(container)
		.filter({ has: scope.page().getByTestId(`parameter-input-${name}`) })
		.first();
	const text = await item.innerText();
	return text.split('\n')[0].replace(/\*/g, '').trim();
}

export interface ImageCheck {
	src: string;
	naturalWidth: number;
	status: number;
	contentType: string;
	body: string;
}

/**
 * An <img> that really rendered: it finished loading with a natural width (a broken image has 0), and its src
 * answers 200 with an SVG content type.
 */
export async function checkImage(page: Page, image: Locator): Promise<ImageCheck> {
	await image.waitFor({ state: 'attached', timeout: TIMEOUT });
	const loaded = await eventually('the image to finish loading', async () => {
		const state = (await image.evaluate((element) => {
			const img = element as unknown as {
				complete: boolean;
				naturalWidth: number;
				currentSrc: string;
				src: string;
			};
			return {
				complete: img.complete,
				naturalWidth: img.naturalWidth,
				src: img.currentSrc || img.src,
			};
		})) as { complete: boolean; naturalWidth: number; src: string };
		return state.complete ? state : false;
	});
	const response = await page.request.get(loaded.src);
	return {
		src: new URL(loaded.src).pathname,
		naturalWidth: loaded.naturalWidth,
		status: response.status(),
		contentType: response.headers()['content-type'] ?? '',
		body: await response.text(),
	};
}

/** Every response of the page for a path under `prefix`, to catch an icon that 404s anywhere. */
export function recordResponses(
	page: Page,
	prefix: string,
): Array<{ path: string; status: number }> {
	const seen: Array<{ path: string; status: number }> = [];
	page.on('response', (response: Response) => {
		const path = new URL(response.url()).pathname;
		if (path.startsWith(prefix)) seen.push({ path, status: response.status() });
	});
	return seen;
}

/** A REST call from inside the signed-in page (n8n checks the session cookie together with the `browser-id` header). */
export async function restGet<T>(page: Page, path: string): Promise<{ status: number; body: T }> {
	const script = `(async () => {
		const response = await fetch(${JSON.stringify(path)}, { headers: { 'browser-id': localStorage.getItem('n8n-browserId') ?? '' } });
		return { status: response.status, text: await response.text() };
	})()`;
	const { status, text } = (await page.evaluate(script)) as { status: number; text: string };
	let body: unknown = text;
	try {
		body = JSON.parse(text);
	} catch {
		// not JSON
	}
	return { status, body: body as T };
}
