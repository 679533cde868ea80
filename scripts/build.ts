/**
 * Builds what the package ships: `tsc` compiles src/ and migrations/ to dist/ (rewriting the
 * `.ts` import specifiers to `.js`), and
 * the shipped migrations' manifest is written: what loading them computes (names, tables,
 * dependencies, checksums) never changes at run time, so it is computed here once.
 * Run through `npm run build`; npm runs it on install (`prepare`) and before tests and packing.
 */
import { execFileSync } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const target = join(root, 'dist');
// Built beside dist/ and swapped in at the end: a test run (or a runner fixture resolving
// `e2e-migrations` to dist/) that is going on meanwhile never sees a half-built package.
const dist = join(root, `dist.next-${process.pid}`);
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
await rm(dist, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
} catch (error) {
  await rm(dist, { recursive: true, force: true });
  throw error;
}
// zod is ~230 modules; the schema uses a few of its builders. Bundling them into the schema's
// module (tree-shaken: ~170 KB, one file) takes ~65 ms off every CLI call and runner setup.
// The types still come from the zod package; nothing else imports zod at run time.
{
  const { build } = await import('rolldown');
  const schema = join(dist, 'src/config/config-schema.js');
  const bundled = `${schema}.bundled`;
  await build({ input: schema, output: { file: bundled, format: 'esm' }, platform: 'node', logLevel: 'warn' });
  await rename(bundled, schema);
}
// Every worker process of an isolating Vitest run loads the preload first (--import): one file
// instead of five modules to resolve and read, at the start of each test file's process.
{
  const { build } = await import('rolldown');
  const preload = join(dist, 'src/runners/vitest/worker-preload.js');
  const bundled = `${preload}.bundled`;
  await build({ input: preload, output: { file: bundled, format: 'esm' }, platform: 'node', logLevel: 'warn' });
  await rename(bundled, preload);
}
// The CLI is started again and again: its own modules (~60) are bundled into a few chunks
// beside bin.js (~30 ms less per call), each command's code still in a chunk of its own that
// loads only when that command runs. Packages stay external. The chunks sit at bin.js's
// depth, so paths relative to import.meta.url (the shipped migrations) mean the same.
{
  const { build } = await import('rolldown');
  await build({
    input: { bin: join(dist, 'src/cli/bin.js') },
    external: (id) => !id.startsWith('.') && !id.startsWith('/'),
    output: { dir: join(dist, 'src/cli'), format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunk-[name]-[hash].js' },
    platform: 'node',
    logLevel: 'warn',
  });
}
// Loaded through the built engine itself, so the manifest says exactly what a run would compute.
const { loadMigrations, manifestOf, MANIFEST_FILE, SHIPPED_MIGRATIONS_DIR } = (await import(
  pathToFileURL(join(dist, 'src/migrate/load-migrations.js')).href
)) as typeof import('../src/migrate/load-migrations.ts');
const manifest = manifestOf(await loadMigrations(SHIPPED_MIGRATIONS_DIR));
await writeFile(join(SHIPPED_MIGRATIONS_DIR, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
const old = `${target}.old-${process.pid}`;
await rename(target, old).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'ENOENT') throw error;
});
await rename(dist, target);
await rm(old, { recursive: true, force: true });
console.log(`build: ${manifest.length} shipped migrations in ${join('dist', 'migrations', MANIFEST_FILE)}`);
