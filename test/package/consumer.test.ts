import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';
import { CONSUMER, consumerProject, exec, ROOT, type ConsumerProject } from './consumer-project.ts';

/** Files of the consumer project that the README shows verbatim. */
const README_FILES = ['vitest.config.ts', 'test/audit.e2e.ts', 'jest.config.mjs', 'test/delivery.test.cjs'];

let project: ConsumerProject;
let files: readonly string[];

beforeAll(async () => {
  project = await consumerProject('consumer');
  files = project.files;
}, 300_000);

afterAll(async () => {
  await project?.[Symbol.asyncDispose]();
});

describe('the packed package in a consumer project outside the repository', () => {
  test('ships built JavaScript with types, the migrations and the bin, and nothing else', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/bin.js', 'dist/src/runners/vitest/global-setup.d.ts', 'dist/migrations/0010_audit_events.js']));
    const stray = files.filter((f) => !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/(src|migrations)\/.*\.(js|d\.ts|cjs|d\.cts)|dist\/migrations\/manifest\.json)$/.test(f));
    expect(stray).toEqual([]);
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
  });

  test('the README shows the consumer files exactly as they run here', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    for (const file of README_FILES) {
      const marker = `<!-- example: ${file} -->`;
      const at = readme.indexOf(marker);
      expect(at, `README has no ${marker}`).toBeGreaterThan(-1);
      const block = /```\w*\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
      expect(block, `README block after ${marker}`).toBe(await readFile(join(CONSUMER, file), 'utf8'));
    }
  });

  test('types resolve under moduleResolution bundler and nodenext, and the block is checked', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const app = project.dir;
    for (const tsconfig of ['tsconfig.bundler.json', 'tsconfig.nodenext.json']) {
      const check = await exec(process.execPath, [tsc, '-p', tsconfig], app);
      expect(check.code, `${tsconfig}\n${check.output}`).toBe(0);
    }
    await writeFile(join(app, 'test', 'typo.e2e.ts'), "import type { MigrationConfigInput } from 'e2e-migrations';\nexport const block: MigrationConfigInput = { tabels: ['audit_events'] };\n");
    const typo = await exec(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], app);
    await rm(join(app, 'test', 'typo.e2e.ts'));
    expect(typo.code).not.toBe(0);
    expect(typo.output).toContain("'tabels' does not exist");
  });

  test('Vitest with the plugin passes on the embedded default and against a URL', async () => {
    const app = project.dir;
    const vitest = join(app, 'node_modules/vitest/vitest.mjs');
    const embedded = await exec(process.execPath, [vitest, 'run'], app);
    expect(embedded.code, embedded.output).toBe(0);
    expect(embedded.output).toMatch(/target\s+ok .*embedded/);
    expect(embedded.output).toMatch(/teardown\s+ok/);

    await using db = await freshDatabase('consumer');
    const url = await exec(process.execPath, [vitest, 'run'], app, { E2E_MIGRATIONS_TARGET_URL: db.url });
    expect(url.code, url.output).toBe(0);
    expect(url.output).toMatch(/target\s+ok .*url/);
    expect(url.output).not.toContain(db.connection.password);
  });

  test('Jest with the plugin passes on the embedded default, and the bin runs', async () => {
    const app = project.dir;
    const jest = await exec(process.execPath, [join(app, 'node_modules/jest/bin/jest.js')], app);
    expect(jest.code, jest.output).toBe(0);
    expect(jest.output).toMatch(/Tests:\s+1 passed/);
    const bin = await exec(process.execPath, [join(app, 'node_modules/.bin/e2e-migrations'), 'list', '--json'], app);
    expect(bin.code, bin.output).toBe(0);
    expect(JSON.parse(bin.stdout).migrations).toHaveLength(22);
  });
});
