import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec, type Result } from './consumer-project.ts';
import type { CaseSetup, Runner } from './troubleshooting-cases.ts';

/*
 * Meets one troubleshooting case as a user of the consumer project would: a Vitest or Jest
 * project of its own (a config with the case's block and one test file that must never run),
 * or the installed `e2e-migrations` bin.
 */

/** Runs `runner` on the case in `<project>/cases/<name>`; resolves to what the user saw. */
export async function meetCase(project: string, name: string, runner: Runner, setup: CaseSetup): Promise<Result> {
  const dir = join(project, 'cases', name);
  await mkdir(dir, { recursive: true });
  if (runner === 'cli') {
    return exec(setup.node ?? process.execPath, [join(project, 'node_modules/e2e-migrations/dist/src/cli/bin.js'), ...(setup.cli ?? [])], dir);
  }
  const block = JSON.stringify(setup.block ?? {});
  if (runner === 'vitest') {
    await writeFile(
      join(dir, 'vitest.config.ts'),
      `import { defineConfig } from 'vitest/config';\nimport 'e2e-migrations/vitest';\n\n` +
        `export default defineConfig({ test: { include: ['*.e2e.ts'], globalSetup: ['e2e-migrations/vitest'], migrations: ${block} } });\n`,
    );
    await writeFile(join(dir, 'never.e2e.ts'), "import { test } from 'vitest';\n\ntest('never runs', () => {\n  throw new Error('the global setup should have failed');\n});\n");
    return exec(process.execPath, [join(project, 'node_modules/vitest/vitest.mjs'), 'run'], dir);
  }
  const config = {
    testMatch: ['<rootDir>/*.test.cjs'],
    transform: {},
    globalSetup: 'e2e-migrations/jest/global-setup',
    globalTeardown: 'e2e-migrations/jest/global-teardown',
    testEnvironmentOptions: { migrations: setup.block ?? {} },
    ...setup.jestConfig,
  };
  await writeFile(join(dir, 'jest.config.mjs'), `export default ${JSON.stringify(config, null, 2)};\n`);
  await writeFile(join(dir, 'never.test.cjs'), "test('never runs', () => {\n  throw new Error('the global setup should have failed');\n});\n");
  return exec(process.execPath, [join(project, 'node_modules/jest/bin/jest.js')], dir);
}
