import { fileURLToPath } from 'node:url';
import type { MigrationConfigInput } from '../../config/config-schema.ts';
import './types.ts';

// Run from the sources (.ts) in this repository, from dist (.js) once installed.
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Absolute path of the global setup, for `test.globalSetup`. */
export const globalSetupFile = fileURLToPath(new URL(`./global-setup${extension}`, import.meta.url));

/** Absolute path of the setup file that hands each test file its clone (`isolate: 'file'`). */
export const isolateSetupFile = fileURLToPath(new URL(`./isolate-setup${extension}`, import.meta.url));

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
    setupFiles: block.isolate === 'file' ? [isolateSetupFile] : [],
    migrations: block,
  };
}
