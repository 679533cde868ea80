import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../errors/errors.ts';
import { displayPath } from '../../util/display-path.ts';

/** Per-service config files looked for next to the Jest config (its rootDir), in this order. */
export const CONFIG_FILES = ['e2e-migrations.config.json', 'e2e-migrations.config.mjs', 'e2e-migrations.config.js'] as const;

const JEST_CONFIG_FILES = ['jest.config.ts', 'jest.config.mts', 'jest.config.cts', 'jest.config.js', 'jest.config.mjs', 'jest.config.cjs', 'jest.config.json'];

export interface JestBlock {
  readonly raw: unknown;
  /** The file the block is in, for messages. */
  readonly configFile: string;
}

/**
 * Where a Jest project keeps its `migrations` block. Jest validates its config and warns
 * about unknown top-level keys ("Unknown option "migrations" …"), but passes
 * `testEnvironmentOptions` through untouched and hands it to global setup, so the block
 * lives at `testEnvironmentOptions.migrations`. Or, for services that keep it apart, in
 * `e2e-migrations.config.json` (or `.mjs`/`.js`, default export) in the project's rootDir.
 * Both at once is an error: one source of truth.
 */
export async function readJestBlock(projectConfig: { rootDir: string; testEnvironmentOptions?: Record<string, unknown> }): Promise<JestBlock> {
  const { rootDir } = projectConfig;
  const inline = projectConfig.testEnvironmentOptions?.['migrations'];
  const file = CONFIG_FILES.map((name) => join(rootDir, name)).find((path) => existsSync(path));
  const jestConfig = JEST_CONFIG_FILES.map((name) => join(rootDir, name)).find((path) => existsSync(path)) ?? join(rootDir, 'package.json');
  if (inline !== undefined && file) {
    throw new ConfigError(
      `the migrations block is given twice: in ${displayPath(jestConfig)} (testEnvironmentOptions.migrations) and in ${displayPath(file)}; keep one`,
      { key: 'testEnvironmentOptions.migrations', file: displayPath(jestConfig) },
    );
  }
  if (inline !== undefined) return { raw: inline, configFile: `${jestConfig} (testEnvironmentOptions.migrations)` };
  if (!file) return { raw: undefined, configFile: jestConfig };
  return { raw: await loadConfigFile(file), configFile: file };
}

async function loadConfigFile(file: string): Promise<unknown> {
  try {
    if (file.endsWith('.json')) return JSON.parse(await readFile(file, 'utf8'));
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return module.default;
  } catch (error) {
    throw new ConfigError(`cannot read ${displayPath(file)}: ${(error as Error).message}`, { file: displayPath(file) }, { cause: error });
  }
}
