import { configSecrets, resolveConfig, type ResolvedConfig } from '../config/resolve-config.ts';
import { ConfigError, E2eMigrationsError, SetupError } from '../errors/errors.ts';
import type { MigrateResult } from '../migrate/migrate.ts';
import { formatConnectionString } from '../postgres/connection-string.ts';
import type { LeaseSizing } from '../provide/database-leases.ts';
import { startFileIsolation, type FileIsolation } from '../provide/file-isolation.ts';
import { captureSeed } from '../provide/seed-snapshot.ts';
import { CONTROL_ENV, envOf, type ProvidedDatabase } from '../provide/provided.ts';
import type { TemplateResult } from '../provide/template.ts';
import { redact } from '../report/redact.ts';
import { Reporter, type LogSink } from '../report/reporter.ts';
import { Session } from '../session/session.ts';
import { writeRunnerReport } from './runner-report.ts';

export type RunnerName = 'vitest' | 'jest';

export interface RunnerSessionOptions {
  readonly runner: RunnerName;
  /** The `migrations` block as found in the runner's config (unvalidated). */
  readonly raw: unknown;
  /** The config file it came from, as people read it; errors name it. */
  readonly source: string;
  /** @default process.stderr */
  readonly logger?: LogSink | false;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The run has other projects with a block of their own: an embedded target joins the one
   * server they share, in a database of its own cloned from the migrated template, instead of
   * starting a server per project. @default false
   */
  readonly shareServer?: boolean;
  /**
   * `isolate: 'file'`: how many clones to prepare before the test files ask (as many as run at
   * once: Vitest's and Jest's workers), called only when isolating. @default DEFAULT_LEASE_SIZING
   */
  readonly leaseSizing?: () => LeaseSizing | Promise<LeaseSizing>;
}

/** One runner's hold on a migrated database, from global setup to global teardown. */
export interface RunnerSession {
  readonly provided: ProvidedDatabase;
  /** Variables for the test workers' environment (DATABASE_URL, E2E_MIGRATIONS_*). */
  readonly env: Readonly<Record<string, string>>;
  readonly session: Session;
  readonly migrations: MigrateResult;
  readonly template?: TemplateResult;
  /** Watch mode, before a rerun: re-verifies the tables (the clones stay leased, reset between files). */
  recheck(): Promise<void>;
  /** Closes the session (clones, target) and writes the report; once, whoever calls it. */
  close(): Promise<void>;
}

/**
 * Global setup shared by the runners: the session's pipeline (target → migrate → verify),
 * then `provide` (the template when isolating, the values for the tests). A failure closes
 * the session and becomes one SetupError naming the stage. SIGINT/SIGTERM close the session.
 */
export async function startRunnerSession(options: RunnerSessionOptions): Promise<RunnerSession> {
  const { runner, source } = options;
  const env = options.env ?? process.env;
  const reporter = new Reporter({ sink: options.logger ?? process.stderr });
  let config: ResolvedConfig;
  try {
    const url = env[CONTROL_ENV.targetUrl];
    config = resolveConfig(options.raw, { source, ...(url ? { targetUrl: { url, from: CONTROL_ENV.targetUrl } } : {}) });
  } catch (error) {
    throw setupError(error, runner, 'config', []);
  }
  for (const secret of configSecrets(config)) reporter.addSecret(secret);
  if (env[CONTROL_ENV.targetUrl]) reporter.info(`${runner}: target taken from ${CONTROL_ENV.targetUrl} (tables and options from ${source})`);
  const reportFile = env[CONTROL_ENV.reportFile];
  const report = (input: Parameters<typeof writeRunnerReport>[1]) =>
    reportFile ? writeRunnerReport(reportFile, input, [...configSecrets(config), ...(session?.target ? [session.target.connection.password] : [])]) : Promise.resolve();

  let session: Session | undefined;
  try {
    session = await Session.open(config, { reporter, interruptible: true, shareServer: options.shareServer ?? false });
    const opened = session;
    const migrations = await opened.migrate();
    if (config.verify) await opened.verify();
    let template: TemplateResult | undefined;
    let isolation: FileIsolation | undefined;
    const provided = await opened.stage('provide', async (progress) => {
      let isolate: ProvidedDatabase['isolate'] = null;
      if (config.isolate === 'file') {
        isolation = await startFileIsolation(opened, progress, options.leaseSizing);
        template = isolation.template;
        isolate = Object.freeze({ template: template.name, clonePrefix: isolation.prefix, leases: isolation.leases });
      }
      const seed = template ? undefined : await captureSeed(await opened.connect(), migrations.tables); // resetDatabase()'s snapshot (clones carry the template's)
      if (seed?.skipped) progress.note(seed.skipped);
      const { connection } = opened.target;
      const value: ProvidedDatabase = Object.freeze({
        url: formatConnectionString(connection),
        host: connection.host,
        port: connection.port,
        database: connection.database,
        user: connection.user,
        tables: Object.freeze([...migrations.tables]),
        isolate,
      });
      progress.done(
        `DATABASE_URL and the ${runner === 'vitest' ? 'injected e2eMigrations' : 'E2E_MIGRATIONS_* variables'}: ` +
          `${connection.host}:${connection.port}/${connection.database} as "${connection.user}", ${value.tables.length} relations` +
          (isolation ? `; ${isolation.summary}` : ''),
      );
      return value;
    });
    // The tests do not need our connection; a tunnel that drops while they run must not matter.
    await opened.disconnect();
    const base = { runner, source, target: opened.target, migrations, template, records: reporter.records };
    await report({ ...base, phase: 'setup' });

    const recheck = () =>
      opened.stage('verify', async (progress) => {
        await opened.verify(await opened.connect(), { quiet: true });
        await opened.disconnect();
        progress.done(`rerun: ${migrations.tables.length} relations still match`);
      });
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= opened.close().finally(() => report({ ...base, phase: 'teardown', records: reporter.records })));
    return Object.freeze({ provided, env: Object.freeze(envOf(provided)), session: opened, migrations, ...(template ? { template } : {}), recheck, close });
  } catch (error) {
    await session?.close().catch((closeError: unknown) => reporter.warn(`teardown after a failed setup also failed: ${(closeError as Error).message}`));
    await report({ runner, source, phase: 'failed', records: reporter.records, error }).catch((reportError: unknown) => reporter.warn(`could not write the report: ${(reportError as Error).message}`));
    throw setupError(error, runner, reporter.failedStage ?? 'setup', [...configSecrets(config), ...(session?.target ? [session.target.connection.password] : [])]);
  }
}

/**
 * A failed global setup as the runner shows it: one line naming the stage and the cause
 * (redacted), with the error's details; the original is kept aside, not as `cause`.
 */
export function setupError(error: unknown, runner: RunnerName, stage: string, secrets: readonly string[]): SetupError {
  if (error instanceof SetupError) return error;
  const ours = E2eMigrationsError.from(error);
  // A mistake found before any stage ran (an unknown table, a malformed migration file) is told
  // as the CLI tells it: a ConfigError is the config's; anything else has no stage to name.
  const at = ours.stage ?? (stage === 'setup' && ours instanceof ConfigError ? 'config' : stage);
  const clean = redact(ours.message, secrets);
  return new SetupError(`e2e-migrations (${runner} global setup): ${at === 'setup' ? '' : `${at} failed: `}${clean}`, at, ours.exitCode, ours.details as Record<string, unknown>, error);
}
