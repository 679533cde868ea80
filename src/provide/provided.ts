/*
 * What a test receives, in both runners, and the environment variables that carry it. Kept
 * free of heavy imports: test workers load this.
 */

/**
 * The migrated database as handed to tests: structured-clonable, so Vitest can `provide` it.
 * `url` carries the password, because tests must connect with it; it is never printed (the
 * reporter redacts it) and the other fields leave it out.
 */
export interface ProvidedDatabase {
  /** `postgres://user:password@host:port/database`. Do not log it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Relations the applied selection covers (the tables asked for and their dependencies). */
  readonly tables: readonly string[];
  /** Set when `isolate: 'file'`: each test file works in its own clone of `template`. */
  readonly isolate: {
    readonly template: string;
    readonly clonePrefix: string;
    /**
     * Where a test file leases its clone: the run's global setup, `<token>@127.0.0.1:<port>`
     * (see database-leases.ts). The token is the run's secret: do not log it.
     */
    readonly leases: string;
  } | null;
}

/** Environment variables set for test workers (Vitest: the project's `env`; Jest: `process.env`). */
export const ENV = Object.freeze({
  /** The de-facto standard name; the URL (with password) of the database tests should use. */
  databaseUrl: 'DATABASE_URL',
  url: 'E2E_MIGRATIONS_URL',
  host: 'E2E_MIGRATIONS_HOST',
  port: 'E2E_MIGRATIONS_PORT',
  database: 'E2E_MIGRATIONS_DATABASE',
  user: 'E2E_MIGRATIONS_USER',
  /** Comma-separated. */
  tables: 'E2E_MIGRATIONS_TABLES',
  template: 'E2E_MIGRATIONS_TEMPLATE',
  clonePrefix: 'E2E_MIGRATIONS_CLONE_PREFIX',
  leases: 'E2E_MIGRATIONS_LEASES',
  /**
   * Vitest workers that lease at start (runners/vitest/process-lease.ts): the run's URL, whose
   * database the lease replaces. Holds the password, as DATABASE_URL does.
   */
  leaseUrl: 'E2E_MIGRATIONS_LEASE_URL',
  /** Jest with several projects: a JSON map from Jest project id to that project's variables (the test environment picks its own). */
  projects: 'E2E_MIGRATIONS_PROJECTS',
});

/** Read by the runners, set by whoever runs many suites against one server (see examples/run-all.ts). */
export const CONTROL_ENV = Object.freeze({
  /** Replaces the block's target with this URL; tables, migrations and the rest stay. */
  targetUrl: 'E2E_MIGRATIONS_TARGET_URL',
  /** When set, setup and teardown write a JSON report of the run there. */
  reportFile: 'E2E_MIGRATIONS_REPORT_FILE',
});

/**
 * `url` (one of ours, as formatConnectionString writes it: the database in the path, never a
 * dbname parameter) with another database: the rest — credentials, host, parameters such as
 * sslmode — as it is. For the workers, which get a clone's name and have the run's URL.
 */
export function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Points a worker's DATABASE_URL and E2E_MIGRATIONS_URL at `url`, and E2E_MIGRATIONS_DATABASE at
 * `database` when there is one: what a test file's lease of its clone does, in either runner.
 */
export function pointEnvAt(env: NodeJS.ProcessEnv, url: string, database?: string): void {
  env[ENV.databaseUrl] = url;
  env[ENV.url] = url;
  if (database !== undefined) env[ENV.database] = database;
}

export function envOf(provided: ProvidedDatabase): Record<string, string> {
  return {
    [ENV.databaseUrl]: provided.url,
    [ENV.url]: provided.url,
    [ENV.host]: provided.host,
    [ENV.port]: String(provided.port),
    [ENV.database]: provided.database,
    [ENV.user]: provided.user,
    [ENV.tables]: provided.tables.join(','),
    ...(provided.isolate ? { [ENV.template]: provided.isolate.template, [ENV.clonePrefix]: provided.isolate.clonePrefix, [ENV.leases]: provided.isolate.leases } : {}),
  };
}

/** The inverse of `envOf`, for code that only has the environment (Jest tests, child processes). */
export function providedFromEnv(env: NodeJS.ProcessEnv = process.env): ProvidedDatabase | undefined {
  const url = env[ENV.url] ?? env[ENV.databaseUrl];
  if (!url) return undefined;
  const parsed = new URL(url);
  const template = env[ENV.template];
  const clonePrefix = env[ENV.clonePrefix];
  const leases = env[ENV.leases];
  return Object.freeze({
    url,
    host: env[ENV.host] ?? parsed.hostname,
    port: Number(env[ENV.port] ?? (parsed.port || 5432)),
    database: env[ENV.database] ?? decodeURIComponent(parsed.pathname.slice(1)),
    user: env[ENV.user] ?? decodeURIComponent(parsed.username),
    tables: Object.freeze((env[ENV.tables] ?? '').split(',').filter(Boolean)),
    isolate: template && clonePrefix && leases ? Object.freeze({ template, clonePrefix, leases }) : null,
  });
}
