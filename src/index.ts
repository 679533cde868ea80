/**
 * e2e-migrations: the DS schema for E2E tests, from one source of truth.
 *
 * Data flow: config → target (embedded | url | kind: cluster → forward) → migrate → verify
 * → provide (runners) → teardown.
 */
export { applyAllMigrations, applyAuditMigrations, applyMigrations, type ApplyResult } from './api/apply-migrations.ts';
export { availableMigrations, type AvailableMigration } from './api/available-migrations.ts';
export { doctor, type DoctorLink, type DoctorReport, type LinkStatus } from './api/doctor.ts';
export { migrationStatus, type MigrationStatus } from './api/migration-status.ts';
export { rollbackMigrations } from './api/rollback-migrations.ts';
export { stopReusedServers, type StopReusedOptions, type StoppedServer } from './api/stop-reused-servers.ts';
export { verifyMigrations } from './api/verify-migrations.ts';
export { migrationConfigSchema, type MigrationConfigInput } from './config/config-schema.ts';
export { DEFAULTS } from './config/defaults.ts';
export {
  defaultMigrationConfig,
  resolveConfig,
  type EmbeddedConfig,
  type KindConfig,
  type ResolvedConfig,
  type TargetKind,
  type UrlConfig,
} from './config/resolve-config.ts';
export {
  ClusterError,
  ConfigError,
  DatabaseError,
  E2eMigrationsError,
  MigrationError,
  PortForwardError,
  SetupError,
  TeardownError,
  VerificationError,
} from './errors/errors.ts';
export { ensureMonthlyPartitions } from './migrate/monthly-partitions.ts';
export type { MaintainContext, MigrationMeta, MigrationModule, PartitionWindow } from './migrate/migration-module.ts';
export type { LogSink, StageName, StageRecord } from './report/reporter.ts';
export { prepareDatabase, type PreparedDatabase } from './api/prepare-database.ts';
export { resetDatabase, type ResetOptions } from './api/reset-database.ts';
export type { ResetResult } from './provide/reset-tables.ts';
export type { RunOptions, StartOptions } from './session/start-session.ts';
export { dsV1, type Database } from './schema/ds-v1.ts';
export { defineSchema, type DatabaseOf, type JsonValue, type SchemaSpec } from './schema/define-schema.ts';
export { formatConnectionString, type ConnectionInfo } from './postgres/connection-string.ts';
export type { StartedTarget, TransportAttempt, TransportReport } from './target/target.ts';
