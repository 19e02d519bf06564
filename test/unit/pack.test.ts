import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';

/** What n8n loads from the published tarball must be in it: every file the n8n block names, icons, codex. */
describe('npm pack', () => {
	const root = join(__dirname, '..', '..');
	const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
		n8n: { nodes: string[]; credentials: string[] };
		dependencies?: Record<string, string>;
		keywords: string[];
	};
	const packed = JSON.parse(
		execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
			cwd: root,
			encoding: 'utf8',
		}),
	) as Array<{ files: Array<{ path: string }> }>;
	const files = new Set(packed[0].files.map((file) => file.path));

	it('holds every node and credential the n8n block lists', () => {
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) expect(files).toContain(file);
		expect(pkg.n8n.nodes.length).toBeGreaterThan(0);
		expect(pkg.n8n.credentials).toHaveLength(2);
	});

	it("holds each node's light and dark icon and its codex file", () => {
		for (const node of pkg.n8n.nodes) {
			const dir = node.slice(0, node.lastIndexOf('/'));
			const name = node.slice(node.lastIndexOf('/') + 1).replace(/\.js$/, '');
			expect(files).toContain(`${dir}/${name}.json`);
			const icons = [...files].filter(
				(file) => file.startsWith(`${dir}/`) && file.endsWith('.svg'),
			);
			expect(icons.some((icon) => icon.endsWith('.dark.svg'))).toBe(true);
			expect(icons.some((icon) => !icon.endsWith('.dark.svg'))).toBe(true);
		}
	});

	it('ships only dist and the package files, and is a community node package', () => {
		for (const file of files)
			expect(
				['package.json', 'index.js', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(file) ||
					file.startsWith('dist/'),
			).toBe(true);
		expect(pkg.keywords).toContain('n8n-community-node-package');
		expect(Object.keys(pkg.dependencies ?? {})).toEqual(['@azure/msal-node']);
	});
});
