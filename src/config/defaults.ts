/**
 * Every default of the `migrations` block, in one place. resolve-config.ts applies them;
 * nothing downstream applies a default of its own.
 */
export const DEFAULTS = Object.freeze({
  /** Kind: the Postgres Service. */
  service: 'postgresql',
  /** Kind: the Postgres port in the pod. */
  port: 5432,
  user: 'slm_user',
  password: 'test_password',
  database: 'action_history',
  /** Kind: how long to wait for a Ready pod. */
  readyTimeoutMs: 5 * 60_000,
  /** Kind: the Service's NodePort when one answers, else a port-forward. */
  transport: 'auto' as const,
  /** The rolling window of monthly partitions (UTC). */
  partitions: Object.freeze({ monthsBack: 1, monthsAhead: 3, tables: Object.freeze([]) as readonly string[] }),
  /** goose directories: refuse a never-applied version below the newest applied one, as goose does. */
  allowMissing: false,
  /** How long to wait for another run's migration lock. */
  lockTimeoutMs: 60_000,
  verify: true,
  isolate: false as const,
  /** Embedded, in a runner: each project in a database of its own on the run's one server. */
  shareDatabase: false,
  /** Embedded: a server of the run's own, stopped when the run ends. */
  reuse: false,
});

/**
 * `reuse`: a reused embedded Postgres stops itself after this long without a client — long
 * enough to span an edit-and-rerun loop, short enough not to hold memory for a day.
 */
export const REUSE_IDLE_TIMEOUT_MS = 15 * 60_000;

/** Kind credentials: explicit values win, then the Secret's, then the defaults. */
export function completeCredentials(
  explicit: { readonly user?: string; readonly password?: string; readonly database?: string },
  fromSecret: { readonly user?: string; readonly password?: string; readonly database?: string } = {},
): { readonly user: string; readonly password: string; readonly database: string } {
  return Object.freeze({
    user: explicit.user ?? fromSecret.user ?? DEFAULTS.user,
    password: explicit.password ?? fromSecret.password ?? DEFAULTS.password,
    database: explicit.database ?? fromSecret.database ?? DEFAULTS.database,
  });
}
