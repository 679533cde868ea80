/**
 * The error family. Each carries the values a user needs to act on it (`details`) and the
 * original failure as `cause`. `exitCode` is what the CLI exits with: 2 for usage/config,
 * 1 for everything else.
 */
export class E2eMigrationsError<D extends object = object> extends Error {
  override readonly name: string = 'E2eMigrationsError';
  readonly exitCode: 1 | 2 = 1;
  readonly details: Readonly<D>;
  /**
   * Which stage of the run failed (cluster, forward, migrate, verify, …). Set once, by the
   * session that ran the stage; errors that are not ours are wrapped, never written to.
   */
  stage?: string;

  constructor(message: string, details: D = {} as D, options?: ErrorOptions) {
    super(message, options);
    this.details = Object.freeze({ ...details });
  }

  /**
   * `error` as a member of the family: ours are returned as they are; anything else (a bug,
   * a driver error nobody translated) is wrapped, keeping it as `cause`.
   */
  static from(error: unknown, what = 'unexpected failure'): E2eMigrationsError {
    if (error instanceof E2eMigrationsError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new E2eMigrationsError(`${what}: ${message}`, {}, { cause: error });
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

/** One or more resources could not be closed; every close was still attempted. */
export class TeardownError extends E2eMigrationsError<{ readonly resources: readonly string[] }> {
  override readonly name = 'TeardownError';
  readonly errors: readonly unknown[];

  constructor(failures: readonly { readonly resource: string; readonly error: unknown }[]) {
    const lines = failures.map(({ resource, error }) => `${resource}: ${error instanceof Error ? error.message : String(error)}`);
    super(
      `teardown failed for ${failures.length} resource${failures.length === 1 ? '' : 's'}:\n  - ${lines.join('\n  - ')}`,
      { resources: failures.map((f) => f.resource) },
      { cause: failures[0]?.error },
    );
    this.errors = Object.freeze(failures.map((f) => f.error));
  }
}

/**
 * A test runner's global setup failed. Runners print an error with its whole cause chain and
 * every own property, so this carries one line (stage, cause, fix) and the details, and keeps
 * the original aside (`originalError`) instead of as `cause`.
 */
export class SetupError extends E2eMigrationsError<Record<string, unknown>> {
  override readonly name = 'SetupError';
  override readonly exitCode: 1 | 2;

  constructor(message: string, stage: string, exitCode: 1 | 2, details: Readonly<Record<string, unknown>>, original?: unknown) {
    super(message, details);
    this.stage = stage;
    this.exitCode = exitCode;
    originals.set(this, original);
    this.stack = `${this.name}: ${message}`;
  }
}

const originals = new WeakMap<SetupError, unknown>();

/** The error a SetupError reports. */
export function originalError(error: SetupError): unknown {
  return originals.get(error);
}
