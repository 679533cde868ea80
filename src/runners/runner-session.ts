import { writeFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { resolveConfig } from '../config/resolve-config.ts';
import { E2eMigrationsError } from '../errors/errors.ts';
import { dropClones } from '../provide/clone.ts';
import { clonePrefix } from '../provide/clone-names.ts';
import { ensureTemplate, type TemplateResult } from '../provide/template.ts';
import { connect } from '../postgres/connect.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import { redact } from '../report/redact.ts';
import { Reporter, type LogSink, type StageRecord } from '../report/reporter.ts';
import { prepareDatabase, type PreparedDatabase } from '../run/prepare-database.ts';
import { once } from '../target/target.ts';
import { verifySchema } from '../verify/verify-schema.ts';
import { teardownOnInterrupt } from '../teardown/interrupt.ts';
import { CONTROL_ENV, envOf, type ProvidedDatabase } from '../provide/provided.ts';
import { readRunnerBlock } from '../config/runner-block.ts';

export type RunnerName = 'vitest' | 'jest';

export interface RunnerSessionOptions {
  readonly runner: RunnerName;
  /** The `migrations` block as found in the runner's config (unvalidated). */
  readonly raw: unknown;
  /** The config file it came from; errors name it. */
  readonly configFile: string;
  /** @default process.stderr */
  readonly logger?: LogSink | false;
  readonly env?: NodeJS.ProcessEnv;
}

/** One runner's hold on a migrated database, from global setup to global teardown. */
export interface RunnerSession {
  readonly provided: ProvidedDatabase;
  /** Variables for the test workers' environment (DATABASE_URL, E2E_MIGRATIONS_*). */
  readonly env: Readonly<Record<string, string>>;
  readonly prepared: PreparedDatabase;
  readonly template?: TemplateResult;
  readonly reporter: Reporter;
  /** Watch mode, before a rerun: re-verifies the tables and drops the last run's clones. */
  recheck(): Promise<void>;
  /** Drops clones, closes the target; runs once, whoever calls it (teardown, interrupt). */
  close(): Promise<void>;
}

/**
 * Global setup shared by the runners: target up, migrations applied, verification passed
 * (all by `prepareDatabase`), the template built when isolating, then the connection handed
 * over. A failure leaves nothing open and is rethrown as a SetupFailure naming the stage.
 */
export async function startRunnerSession(options: RunnerSessionOptions): Promise<RunnerSession> {
  const { runner } = options;
  const env = options.env ?? process.env;
  let read;
  try {
    read = readRunnerBlock(options.raw, options.configFile, env);
  } catch (error) {
    throw SetupFailure.from(error, runner, []);
  }
  const { block, source } = read;
  const config = resolveConfig(block, source);
  const reporter = new Reporter({ sink: options.logger ?? process.stderr, secrets: config.password ? [config.password] : [] });
  if (read.overriddenBy) reporter.info(`${runner}: target taken from ${read.overriddenBy} (tables and options from ${source})`);
  let prepared: PreparedDatabase | undefined;
  let prefix: string | undefined;
  let template: TemplateResult | undefined;
  const reportFile = env[CONTROL_ENV.reportFile];
  const report = (phase: 'setup' | 'teardown' | 'failed', error?: unknown) =>
    reportFile ? writeReport(reportFile, { runner, source, phase, prepared, template, records: reporter.records, error, secrets: [config.password, prepared?.connection.password] }) : Promise.resolve();

  try {
    prepared = await prepareDatabase({ ...block, source, reporter });
    const connection = prepared.connection;
    const provided = await reporter.stage('provide', async (progress) => {
      let isolate: ProvidedDatabase['isolate'] = null;
      if (config.isolate === 'file') {
        progress.waitingFor('the template database (isolate: file)');
        template = await ensureTemplate(connection, config);
        prefix = clonePrefix(template.name);
        isolate = Object.freeze({ template: template.name, clonePrefix: prefix });
      }
      const value: ProvidedDatabase = Object.freeze({
        url: prepared!.url,
        host: connection.host,
        port: connection.port,
        database: connection.database,
        user: connection.user,
        tables: Object.freeze([...prepared!.migrations.tables]),
        isolate,
      });
      progress.done(
        `DATABASE_URL and the ${runner === 'vitest' ? 'injected e2eMigrations' : 'E2E_MIGRATIONS_* variables'}: ` +
          `${connection.host}:${connection.port}/${connection.database} as "${connection.user}", ${value.tables.length} relations` +
          (template ? `; template ${template.name} ${template.built ? 'built' : 'reused'}, a clone per ${runner === 'vitest' ? 'test file' : 'Jest worker'}` : ''),
      );
      return value;
    });

    const target = prepared;
    let disarm = (): void => {};
    const close = once(async () => {
      disarm();
      try {
        if (prefix) {
          const clonesOf = prefix;
          await reporter.stage('teardown', async (progress) => {
            const dropped = await dropClones(connection, clonesOf);
            progress.done(`dropped ${dropped.length} clone${dropped.length === 1 ? '' : 's'} of ${template!.name}`);
          });
        }
      } finally {
        await target.close();
        await report('teardown');
      }
    });
    disarm = teardownOnInterrupt(close, (signal) => reporter.info(`${signal}: tearing down before exit`));
    await report('setup');

    const recheck = async (): Promise<void> => {
      await reporter.stage('verify', async (progress) => {
        const set = await loadMigrations(config.migrations);
        let db: Kysely<any> | undefined;
        try {
          db = await connect(connection);
          await verifySchema(db, { tables: target.migrations.tables, ...(set.schema ? { schema: set.schema } : {}) });
        } finally {
          await db?.destroy();
        }
        const dropped = prefix ? await dropClones(connection, prefix) : [];
        progress.done(`rerun: ${target.migrations.tables.length} relations still match${dropped.length ? `, dropped ${dropped.length} clones of the last run` : ''}`);
      });
    };

    return Object.freeze({ provided, env: Object.freeze(envOf(provided)), prepared: target, ...(template ? { template } : {}), reporter, recheck, close });
  } catch (error) {
    if (prepared) await prepared.close().catch((closeError) => reporter.warn(`teardown after a failed setup also failed: ${(closeError as Error).message}`));
    await report('failed', error).catch(() => {});
    throw SetupFailure.from(error, runner, [config.password, prepared?.connection.password]);
  }
}

const originals = new WeakMap<SetupFailure, unknown>();

/** The error a SetupFailure reports. */
export function originalError(failure: SetupFailure): unknown {
  return originals.get(failure);
}

/**
 * A failed global setup as the runner prints it: one message naming the stage and the cause
 * (redacted), the error's details (key and file, host and port, …), and neither our stack
 * frames nor the cause chain, which runners print in full, with every own property. The
 * original error is kept aside: `originalError(failure)`.
 */
export class SetupFailure extends Error {
  override readonly name = 'E2eMigrationsSetupError';
  readonly stage: string;
  readonly exitCode: number;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, stage: string, exitCode: number, details: Readonly<Record<string, unknown>>, original?: unknown) {
    super(message);
    this.stage = stage;
    this.exitCode = exitCode;
    this.details = details;
    originals.set(this, original);
    this.stack = `${this.name}: ${message}`;
  }

  static from(error: unknown, runner: RunnerName, secrets: readonly (string | undefined)[]): SetupFailure {
    if (error instanceof SetupFailure) return error;
    const known = error instanceof E2eMigrationsError;
    const stage = (error as { stage?: string }).stage ?? (known && error.name === 'ConfigError' ? 'config' : 'setup');
    const message = error instanceof Error ? error.message : String(error);
    const clean = redact(message, secrets.filter((s): s is string => !!s));
    const details = known ? (error.details as Record<string, unknown>) : {};
    return new SetupFailure(`e2e-migrations (${runner} global setup): ${stage} failed: ${clean}`, stage, known ? error.exitCode : 1, details, error);
  }
}

interface ReportInput {
  readonly runner: RunnerName;
  readonly source: string;
  readonly phase: 'setup' | 'teardown' | 'failed';
  readonly prepared: PreparedDatabase | undefined;
  readonly template: TemplateResult | undefined;
  readonly records: readonly StageRecord[];
  readonly error?: unknown;
  readonly secrets: readonly (string | undefined)[];
}

/** The machine-readable account of a run that examples/run-all.ts aggregates. No secrets in it. */
export interface RunnerReport {
  readonly runner: RunnerName;
  readonly source: string;
  readonly phase: 'setup' | 'teardown' | 'failed';
  readonly target?: string;
  readonly description?: string;
  readonly database?: string;
  readonly tables: readonly string[];
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
  readonly template?: { readonly name: string; readonly built: boolean };
  readonly stages: readonly StageRecord[];
  readonly error?: { readonly name: string; readonly stage?: string; readonly message: string };
}

async function writeReport(file: string, input: ReportInput): Promise<void> {
  const { prepared, error } = input;
  const report: RunnerReport = {
    runner: input.runner,
    source: input.source,
    phase: input.phase,
    ...(prepared ? { target: prepared.target, description: prepared.description, database: prepared.connection.database } : {}),
    tables: prepared?.migrations.tables ?? [],
    applied: prepared?.migrations.applied ?? [],
    alreadyApplied: prepared?.migrations.alreadyApplied ?? [],
    ...(input.template ? { template: { name: input.template.name, built: input.template.built } } : {}),
    stages: input.records,
    ...(error ? { error: { name: (error as Error).name ?? 'Error', stage: (error as { stage?: string }).stage, message: (error as Error).message ?? String(error) } } : {}),
  };
  const text = redact(JSON.stringify(report, null, 2), input.secrets.filter((s): s is string => !!s));
  await writeFile(file, `${text}\n`);
}
