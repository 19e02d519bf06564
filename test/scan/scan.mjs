// `npm run scan`: n8n's community-package scanner (@n8n/scan-community-package) over the packed tarball and over
// the source, with its own ESLint configuration and inline disable comments ignored, exactly as n8n runs it.
// Every finding is printed. Allowed, by rule and by module name and nothing broader: the runtime dependency on
// @azure/msal-node that the design card asks for (its no-restricted-imports / no-runtime-dependencies findings).
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative, resolve } from 'path';
import { fileURLToPath } from 'url';

import { ESLint } from 'eslint';
import glob from 'fast-glob';
import {
	analyzePackage,
	buildScanConfig,
	SOURCE_FILE_PATTERNS,
} from '@n8n/scan-community-package/scanner/scanner.mjs';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TARBALL_PATTERNS = ['**/*.js', 'package.json'];
const ALLOWED_MODULE = '@azure/msal-node';

function allowed(message, file) {
	if (message.ruleId === '@n8n/community-nodes/no-restricted-imports')
		return message.message.includes(`'${ALLOWED_MODULE}'`);
	if (message.ruleId === '@n8n/community-nodes/no-runtime-dependencies') {
		const pkg = JSON.parse(readFileSync(file, 'utf8'));
		return JSON.stringify(Object.keys(pkg.dependencies ?? {})) === JSON.stringify([ALLOWED_MODULE]);
	}
	return false;
}

async function findings(dir, patterns) {
	const eslint = new ESLint({
		cwd: dir,
		allowInlineConfig: false,
		overrideConfigFile: true,
		overrideConfig: await buildScanConfig(),
	});
	const files = glob.sync(patterns, {
		cwd: dir,
		absolute: true,
		ignore: ['node_modules/**', '**/package-lock.json'],
	});
	const results = await eslint.lintFiles(files);
	return {
		files: files.length,
		list: results.flatMap((result) =>
			result.messages
				.filter((m) => m.severity === 2)
				.map((m) => ({
					file: relative(dir, result.filePath),
					...m,
					allowed: allowed(m, result.filePath),
				})),
		),
	};
}

const work = mkdtempSync(join(tmpdir(), 'msgraph-presence-scan-'));
let failed = false;
try {
	execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
	const packed = JSON.parse(
		execFileSync(
			'npm',
			['pack', '--ignore-scripts', '--json', '--pack-destination', work, '--loglevel=error'],
			{ cwd: root, encoding: 'utf8' },
		),
	);
	const tarDir = join(work, 'package');
	execFileSync('tar', ['-xzf', join(work, packed[0].filename), '-C', work]);

	for (const [label, dir, patterns] of [
		['tarball', tarDir, TARBALL_PATTERNS],
		['source', root, SOURCE_FILE_PATTERNS],
	]) {
		// The scanner's own verdict, as n8n would print it…
		const verdict = await analyzePackage(dir, patterns);
		// …and the same lint with structured findings, to tell the allowed ones apart.
		const { files, list } = await findings(dir, patterns);
		console.log(
			`== ${label}: ${files} files, scanner says ${verdict.passed ? 'passed' : 'not passed'}, ${list.length} finding(s)`,
		);
		for (const f of list)
			console.log(
				`${f.allowed ? 'allowed' : 'FINDING'}  ${f.file}:${f.line}:${f.column}  ${f.ruleId}  ${f.message}`,
			);
		if (list.some((f) => !f.allowed)) failed = true;
		if (!verdict.passed && list.length === 0) {
			console.log(verdict.message, verdict.details ?? '');
			failed = true;
		}
	}
} finally {
	rmSync(work, { recursive: true, force: true });
}
console.log(
	failed
		? 'scan: findings beyond the allowed @azure/msal-node dependency'
		: 'scan: only the allowed @azure/msal-node findings',
);
process.exit(failed ? 1 : 0);
