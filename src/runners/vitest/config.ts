import { fileURLToPath } from 'node:url';
import type { MigrationConfigInput } from '../../config/config-schema.ts';
import './types.ts';

// Run from the sources (.ts) in this repository, from dist (.js) once installed.
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Absolute path of the global setup, for `test.globalSetup`. */
export const globalSetupFile = fileURLToPath(new URL(`./global-setup${extension}`, import.meta.url));

/**
 * Absolute path of the setup file that hands each test file its clone (`isolate: 'file'`) where
 * a worker runs several files (`pool: 'threads'`, `isolate: false`); the global setup adds it.
 */
export const isolateSetupFile = fileURLToPath(new URL(`./isolate-setup${extension}`, import.meta.url));

/**
 * URL of the module a worker process that runs one test file loads first (`--import`), to
 * lease its clone as it starts (`isolate: 'file'`, the default `forks` pool); the global setup
 * adds it to the project's `execArgv`.
 */
export const workerPreloadUrl = new URL(`./worker-preload${extension}`, import.meta.url).href;

export interface E2eMigrationsTestConfig {
  globalSetup: string[];
  setupFiles: string[];
  migrations: MigrationConfigInput;
}

/**
 * The one-call form: the part of the `test` section that e2e-migrations needs. Spread it,
 * and merge your own `globalSetup`/`setupFiles` if you have any. The result is the same as
 * writing `globalSetup: ['e2e-migrations/vitest'], migrations: {...}` by hand.
 *
 * @example
 * ```ts
 * export default defineConfig({ test: { ...e2eMigrations({ tables: ['audit_events'] }), include: ['test/**\/*.e2e.ts'] } });
 * ```
 */
export function e2eMigrations(block: MigrationConfigInput = {}): E2eMigrationsTestConfig {
  return {
    globalSetup: [globalSetupFile],
    // `isolate: 'file'` needs a per-file setup file or a worker preload, depending on the pool:
    // the global setup, which knows the pool, adds the one that fits.
    setupFiles: [],
    migrations: block,
  };
}
