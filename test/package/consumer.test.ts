import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const CONSUMER = join(import.meta.dirname, 'consumer');
/** Files of the consumer project that the README shows verbatim. */
const README_FILES = ['vitest.config.ts', 'test/audit.e2e.ts', 'jest.config.mjs', 'test/delivery.test.cjs'];

interface Result {
  code: number;
  stdout: string;
  output: string;
}

async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let work: string;
let tarball: string;
let files: string[];

beforeAll(async () => {
  // Private (0700), like /root or a CI workspace: the embedded server must work from here as it is.
  work = await mkdtemp(join(tmpdir(), 'e2e-migrations-consumer-'));
  // `npm test` built dist/ (pretest); pack exactly that, as `npm publish` would.
  const pack = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
  expect(pack.code, pack.output).toBe(0);
  const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, info.filename);
  files = info.files.map((f) => f.path);

  const app = join(work, 'service');
  await cp(CONSUMER, app, { recursive: true });
  const versions = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'gateway-e2e',
        private: true,
        type: 'module',
        // Only the consumer's own dependencies: the runners, pg, and us.
        devDependencies: {
          'e2e-migrations': `file:${tarball}`,
          vitest: versions.devDependencies.vitest,
          jest: versions.devDependencies.jest,
          pg: '^8.0.0',
          '@types/node': versions.devDependencies['@types/node'],
        },
      },
      null,
      2,
    ),
  );
  const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], app);
  expect(install.code, install.output).toBe(0);
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the packed package in a consumer project outside the repository', () => {
  test('ships built JavaScript with types, the migrations and the bin, and nothing else', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/bin.js', 'dist/src/runners/vitest/global-setup.d.ts', 'dist/migrations/0010_audit_events.js']));
    const stray = files.filter((f) => !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/(src|migrations)\/.*\.(js|d\.ts|cjs)|dist\/migrations\/manifest\.json)$/.test(f));
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
    const app = join(work, 'service');
    for (const project of ['tsconfig.bundler.json', 'tsconfig.nodenext.json']) {
      const check = await exec(process.execPath, [tsc, '-p', project], app);
      expect(check.code, `${project}\n${check.output}`).toBe(0);
    }
    await writeFile(join(app, 'test', 'typo.e2e.ts'), "import type { MigrationConfigInput } from 'e2e-migrations';\nexport const block: MigrationConfigInput = { tabels: ['audit_events'] };\n");
    const typo = await exec(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], app);
    await rm(join(app, 'test', 'typo.e2e.ts'));
    expect(typo.code).not.toBe(0);
    expect(typo.output).toContain("'tabels' does not exist");
  });

  test('Vitest with the plugin passes on the embedded default and against a URL', async () => {
    const app = join(work, 'service');
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
    const app = join(work, 'service');
    const jest = await exec(process.execPath, [join(app, 'node_modules/jest/bin/jest.js')], app);
    expect(jest.code, jest.output).toBe(0);
    expect(jest.output).toMatch(/Tests:\s+1 passed/);
    const bin = await exec(process.execPath, [join(app, 'node_modules/.bin/e2e-migrations'), 'list', '--json'], app);
    expect(bin.code, bin.output).toBe(0);
    expect(JSON.parse(bin.stdout).migrations).toHaveLength(22);
  });
});
