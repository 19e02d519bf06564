/**
 * Re-renders bench.md and bench.svg from bench.json (e.g. after changing the report's layout) without measuring
 * again: `npx tsx test/bench/render.ts [--quick]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { renderMarkdown, renderSvg, type BenchReport } from './report';

const suffix = process.argv.includes('--quick') ? '.quick' : '';
const dir = join(__dirname, 'results');
const report = JSON.parse(readFileSync(join(dir, `bench${suffix}.json`), 'utf8')) as BenchReport;
writeFileSync(join(dir, `bench${suffix}.md`), renderMarkdown(report, `bench${suffix}.svg`));
writeFileSync(join(dir, `bench${suffix}.svg`), renderSvg(report));
console.log(`Rendered ${join(dir, `bench${suffix}.md`)} and .svg`);
