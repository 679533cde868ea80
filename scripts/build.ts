/**
 * Builds what the package ships: `tsc` compiles src/ and migrations/ to dist/ (rewriting the
 * `.ts` import specifiers to `.js`), then the few plain-JavaScript files are copied beside.
 * Run through `npm run build`; npm runs it on install (`prepare`) and before tests and packing.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
await rm(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const file of ['src/runners/jest/worker-database.cjs']) {
  await mkdir(dirname(join(root, 'dist', file)), { recursive: true });
  await copyFile(join(root, file), join(root, 'dist', file));
}
