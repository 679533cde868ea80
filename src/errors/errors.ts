/**
 * The error family. Each carries the values a user needs to act on it and the original
 * failure as `cause`. `exitCode` is what the CLI exits with: 2 for usage/config, 1 otherwise.
 */
export class E2eMigrationsError extends Error {
  override readonly name: string = 'E2eMigrationsError';
  readonly exitCode: 1 | 2 = 1;
  /** Which stage of the run failed, when known (cluster, forward, migrate, verify, …). */
  stage?: string;
}

/** A wrong key, value or file in the configuration or on the command line. */
export class ConfigError extends E2eMigrationsError {
  override readonly name = 'ConfigError';
  override readonly exitCode = 2;
  constructor(
    message: string,
    readonly details: { readonly key?: string; readonly file?: string; readonly issues?: readonly string[] } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The cluster could not be found or read: kubeconfig, context, Kind, API server, objects in it. */
export class ClusterError extends E2eMigrationsError {
  override readonly name = 'ClusterError';
  constructor(
    message: string,
    readonly details: {
      readonly context?: string;
      readonly namespace?: string;
      readonly service?: string;
      readonly pod?: string;
      readonly timeoutMs?: number;
    } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The tunnel to the pod failed: refused, forbidden, dropped. */
export class PortForwardError extends E2eMigrationsError {
  override readonly name = 'PortForwardError';
  constructor(
    message: string,
    readonly details: { readonly namespace?: string; readonly pod?: string; readonly port?: number } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Postgres could not be reached or refused the login. */
export class DatabaseError extends E2eMigrationsError {
  override readonly name = 'DatabaseError';
  constructor(
    message: string,
    readonly details: { readonly host?: string; readonly port?: number; readonly database?: string; readonly user?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A migration failed, drifted, or the migration source is malformed. */
export class MigrationError extends E2eMigrationsError {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly details: {
      readonly migration?: string;
      readonly file?: string;
      readonly sqlState?: string;
      readonly position?: number;
    } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The database does not have what the selection requires. `problems` lists every item. */
export class VerificationError extends E2eMigrationsError {
  override readonly name = 'VerificationError';
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`verification failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, options);
  }
}
