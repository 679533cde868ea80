import type { MigrationConfigInput } from '../config/config-schema.ts';
import type { MigrateResult } from '../migrate/migrate.ts';
import type { StageRecord } from '../report/reporter.ts';
import type { TransportReport } from '../target/target.ts';
import { startSession, type RunOptions, type StartOptions } from '../session/start-session.ts';
import { prepared } from './prepare-database.ts';

export interface ApplyResult extends MigrateResult {
  /** Per-stage outcome and time, in order. */
  readonly stages: readonly StageRecord[];
  /** Kind: the transport used (NodePort or port-forward), its address, and why the other was not. */
  readonly transport?: TransportReport;
}

/**
 * Applies the migrations the configured tables need to the configured target, verifies
 * them and closes the target. Go: `ApplyMigrations(ctx, config)`.
 *
 * @example
 * ```ts
 * await applyMigrations({ namespace: 'kubernaut-system', kindCluster: 'e2e', tables: ['audit_events'] });
 * await applyMigrations({ url: process.env.DATABASE_URL, tables: 'all', logger: false });
 * ```
 */
export async function applyMigrations(config: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<ApplyResult> {
  const database = await prepared(await startSession(config, options), { seed: false });
  await database.close();
  return Object.freeze({ ...database.migrations, stages: database.stages, ...(database.transport ? { transport: database.transport } : {}) });
}

/** Only what audit events need. Go: `ApplyAuditMigrations(ctx, namespace, kubeconfigPath, writer)`. */
export function applyAuditMigrations(options: Omit<MigrationConfigInput, 'tables'> & RunOptions = {}): Promise<ApplyResult> {
  return applyMigrations({ ...options, tables: ['audit_events'] });
}

/** The whole DS schema. Go: `ApplyAllMigrations(ctx, namespace, kubeconfigPath, writer)`. */
export function applyAllMigrations(options: Omit<MigrationConfigInput, 'tables'> & RunOptions = {}): Promise<ApplyResult> {
  return applyMigrations({ ...options, tables: 'all' });
}
