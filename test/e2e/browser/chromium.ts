import { execFileSync } from 'child_process';
import { existsSync, openSync, readSync, closeSync, realpathSync } from 'fs';
import { basename, join } from 'path';

import { chromium, selectors, type Browser } from 'playwright-core';

/**
 * Debian's Chromium from the system packages, driven by playwright-core (no browser download).
 * `/usr/bin/chromium` is a shell wrapper; Playwright wants the real binary, which the wrapper starts from
 * `/usr/lib/chromium/chromium`. `CHROMIUM_PATH` overrides the lookup.
 */
export function chromiumExecutable(): string {
	const override = process.env.CHROMIUM_PATH;
	if (override) return override;
	let found: string;
	try {
		found = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
	} catch {
		throw new Error(
			'chromium is not installed (Debian: apt-get install -y chromium), or set CHROMIUM_PATH',
		);
	}
	const real = realpathSync(found);
	if (!isScript(real)) return real;
	// The wrapper execs $LIBDIR/$APPNAME with LIBDIR=/usr/lib/$APPNAME.
	const name = basename(real);
	const binary = join('/usr/lib', name, name);
	if (existsSync(binary) && !isScript(binary)) return realpathSync(binary);
	return real;
}

function isScript(file: string): boolean {
	const fd = openSync(file, 'r');
	try {
		const head = Buffer.alloc(2);
		readSync(fd, head, 0, 2, 0);
		return head.toString('latin1') === '#!';
	} finally {
		closeSync(fd);
	}
}

/** Headless, with the flags that keep Chromium off the network this machine does not have. */
export async function launchChromium(): Promise<Browser> {
	// n8n marks its elements with data-test-id (Playwright's default is data-testid).
	selectors.setTestIdAttribute('data-test-id');
	return await chromium.launch({
		executablePath: chromiumExecutable(),
		headless: true,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-quic',
			'--no-first-run',
			'--disable-component-update',
			'--disable-sync',
		],
	});
}
