/**
 * The error family. Each carries the values a user needs to act on it (`details`) and the
 * original failure as `cause`. `exitCode` is what the CLI exits with: 2 for usage/config,
 * 1 for everything else.
 */
export class E2eMigrationsError<D extends object = object> extends Error {
  override readonly name: string = 'E2eMigrationsError';
  readonly exitCode: 1 | 2 = 1;
  readonly details: Readonly<D>;
  /** Which stage of the run failed, when known (cluster, forward, migrate, verify, …). */
  stage?: string;

  constructor(message: string, details: D = {} as D, options?: ErrorOptions) {
    super(message, options);
    this.details = Object.freeze({ ...details });
  }
}

export interface ConfigDetails {
  readonly key?: string;
  readonly file?: string;
  readonly issues?: readonly string[];
}

/** A wrong key, value or file in the configuration or on the command line. */
export class ConfigError extends E2eMigrationsError<ConfigDetails> {
  override readonly name = 'ConfigError';
  override readonly exitCode = 2;
}

export interface ClusterDetails {
  readonly context?: string;
  readonly namespace?: string;
  readonly service?: string;
  readonly pod?: string;
  readonly timeoutMs?: number;
}

/** The cluster could not be found or read: kubeconfig, context, Kind, API server, objects in it. */
export class ClusterError extends E2eMigrationsError<ClusterDetails> {
  override readonly name = 'ClusterError';
}

export interface PortForwardDetails {
  readonly namespace?: string;
  readonly pod?: string;
  readonly port?: number;
}

/** The tunnel to the pod failed: refused, forbidden, dropped. */
export class PortForwardError extends E2eMigrationsError<PortForwardDetails> {
  override readonly name = 'PortForwardError';
}

export interface DatabaseDetails {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
}

/** Postgres could not be reached or refused the login. */
export class DatabaseError extends E2eMigrationsError<DatabaseDetails> {
  override readonly name = 'DatabaseError';
}

export interface MigrationDetails {
  readonly migration?: string;
  readonly file?: string;
  readonly sqlState?: string;
  readonly position?: number;
}

/** A migration failed, drifted, or the migration source is malformed. */
export class MigrationError extends E2eMigrationsError<MigrationDetails> {
  override readonly name = 'MigrationError';
}

/** The database lacks what the selection requires; `problems` lists every item. */
export class VerificationError extends E2eMigrationsError<{ readonly problems: readonly string[] }> {
  override readonly name = 'VerificationError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(`verification failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, { problems }, options);
    this.problems = problems;
  }
}
