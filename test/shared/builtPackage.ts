import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import type { ICredentialType, INodeType } from 'n8n-workflow';

/**
 * The package as n8n loads it: the built files (`npm test`, the bench and the chaos suite build first), found
 * through package.json's `n8n` block as n8n finds them, each file's class named after the file.
 */

const ROOT = join(__dirname, '..', '..');
export const DIST = join(ROOT, 'dist');

export interface BuiltPackage {
	MicrosoftGraphPresence: new () => INodeType;
	MicrosoftGraphPresenceTrigger: new () => INodeType;
	MicrosoftGraphPresenceInstantTrigger: new () => INodeType;
	MicrosoftGraphPresenceAppApi: new () => ICredentialType;
	MicrosoftGraphPresenceOAuth2Api: new () => ICredentialType;
}

interface Manifest {
	nodes: string[];
	credentials: string[];
}

const manifest = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { n8n: Manifest })
	.n8n;

/** One built module below `dir` (dist/ or a copy of it), typed as its source: `typeof import('…/source')`. */
export function requireBuilt<T>(dir: string, file: string): T {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return require(join(dir, file)) as T;
}

function builtClass<T>(dir: string, kind: keyof Manifest, name: string): new () => T {
	const file = manifest[kind].find((entry) => basename(entry).split('.')[0] === name);
	if (file === undefined) throw new Error(`${name} is not listed in package.json's n8n.${kind}`);
	const exported = requireBuilt<Record<string, unknown>>(dir, file.replace(/^dist\//, ''))[name];
	if (typeof exported !== 'function') throw new Error(`${file} exports no class ${name}`);
	return exported as new () => T;
}

/** From `dir`, dist/ by default; the bench passes its snapshot of dist/. */
export function loadBuiltPackage(dir: string = DIST): BuiltPackage {
	const node = (name: string) => builtClass<INodeType>(dir, 'nodes', name);
	const credential = (name: string) => builtClass<ICredentialType>(dir, 'credentials', name);
	return {
		MicrosoftGraphPresence: node('MicrosoftGraphPresence'),
		MicrosoftGraphPresenceTrigger: node('MicrosoftGraphPresenceTrigger'),
		MicrosoftGraphPresenceInstantTrigger: node('MicrosoftGraphPresenceInstantTrigger'),
		MicrosoftGraphPresenceAppApi: credential('MicrosoftGraphPresenceAppApi'),
		MicrosoftGraphPresenceOAuth2Api: credential('MicrosoftGraphPresenceOAuth2Api'),
	};
}
