import type { MigrationConfigInput } from '../config/config-schema.ts';
import type { ResolvedConfig, TargetKind } from '../config/resolve-config.ts';
import type { MigrateResult } from '../migrate/migrate.ts';
import { formatConnectionString, type ConnectionInfo } from '../postgres/connection-string.ts';
import type { StageRecord } from '../report/reporter.ts';
import { captureSeed } from '../provide/seed-snapshot.ts';
import type { Session } from '../session/session.ts';
import type { TransportReport } from '../target/target.ts';
import { startSession, type RunOptions, type StartOptions } from '../session/start-session.ts';

/** A migrated, verified database that stays reachable until `close()`. */
export interface PreparedDatabase extends AsyncDisposable {
  readonly target: TargetKind;
  readonly description: string;
  readonly connection: ConnectionInfo;
  /** `postgres://` URL with the password in it: hand it to tests, never print it. */
  readonly url: string;
  readonly migrations: MigrateResult;
  readonly stages: readonly StageRecord[];
  /** Kind: the transport used (NodePort or port-forward), its address, and why the other was not. */
  readonly transport?: TransportReport;
  readonly config: ResolvedConfig;
  /** Tears down what setup opened (forward, embedded server); idempotent. */
  close(): Promise<void>;
}

/**
 * The whole pipeline up to handing the connection over: config → target → migrate → verify.
 * Whatever fails, everything opened so far is closed before the error leaves.
 *
 * @example
 * ```ts
 * await using db = await prepareDatabase({ namespace: 'kubernaut-system', tables: ['audit_events'] });
 * console.log(db.connection.port, db.migrations.applied);
 * ```
 */
export async function prepareDatabase(input: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<PreparedDatabase> {
  const session = await startSession(input, options);
  return prepared(session, { seed: true });
}

/**
 * Migrates and verifies an open session; closes it when that fails. `seed` records what
 * `resetDatabase()` restores (a schema `e2e_migrations_seed` in the database): for a database
 * tests will use, not for an `apply` that only migrates (a cluster's database keeps no schema
 * of ours it does not need).
 */
export async function prepared(session: Session, options: { readonly seed: boolean }): Promise<PreparedDatabase> {
  try {
    const migrations = await session.migrate();
    if (session.config.verify) await session.verify();
    if (options.seed) {
      const seed = await captureSeed(await session.connect(), migrations.tables);
      if (seed.skipped) session.reporter.info(seed.skipped);
    }
    const { target } = session;
    const close = () => session.close();
    return Object.freeze({
      target: target.kind,
      description: target.description,
      connection: target.connection,
      url: formatConnectionString(target.connection),
      migrations,
      stages: session.reporter.records,
      ...(target.transport ? { transport: target.transport } : {}),
      config: session.config,
      close,
      [Symbol.asyncDispose]: close,
    });
  } catch (error) {
    await session.close().catch((closeError: unknown) => session.reporter.warn(`teardown after a failed setup also failed: ${(closeError as Error).message}`));
    throw error;
  }
}
