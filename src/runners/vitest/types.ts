import type { MigrationConfigInput } from '../../config/config-schema.ts';
import type { ProvidedDatabase } from '../../provide/provided.ts';

/*
 * Module augmentation, active wherever `e2e-migrations/vitest` is imported (the config that
 * names it, or a test that uses its helpers):
 *
 *  - `test.migrations` in `defineConfig` is the `migrations` block, checked and completed by
 *    the editor. Vitest's `InlineConfig` is the type of the `test` section (and of each
 *    inline project's `test`), and `ResolvedConfig` derives from it, so the global setup
 *    reads it back as `project.config.migrations`.
 *  - `inject('e2eMigrations')` is typed.
 */
declare module 'vitest/node' {
  interface InlineConfig {
    /**
     * The e2e-migrations block, read by `e2e-migrations/vitest` in `globalSetup`: where
     * Postgres is (embedded by default, `url`, or Kind keys), which tables, which migrations,
     * partitions, verification and isolation.
     */
    migrations?: MigrationConfigInput;
  }
}

declare module 'vitest' {
  interface ProvidedContext {
    /** The migrated database, provided by `e2e-migrations/vitest`. `url` holds the password: never print it. */
    e2eMigrations: ProvidedDatabase;
  }
}

export type { MigrationConfigInput, ProvidedDatabase };
