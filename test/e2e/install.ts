/**
 * Installs the pinned n8n versions into the cache (reused when present): `tsx test/e2e/install.ts [v2] [v1]`.
 * CI runs it before the end-to-end tests so that a first install's minutes are not spent inside a test timeout.
 */
import { ensureN8n, N8N_LINES } from './lib/n8n';

async function main(): Promise<void> {
	const wanted = process.argv.slice(2);
	const lines =
		wanted.length > 0
			? wanted.map((name) => N8N_LINES[name as keyof typeof N8N_LINES])
			: Object.values(N8N_LINES);
	for (const line of lines) {
		if (!line) throw new Error(`unknown n8n line; use ${Object.keys(N8N_LINES).join(' or ')}`);
		const install = await ensureN8n(line);
		process.stdout.write(`${line.label} ${line.version}: ${install.dir}\n`);
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
