import { MigrationError } from '../errors/errors.ts';

/** One lock for every run against a database: whoever holds it applies; the others wait. */
export const MIGRATION_LOCK_KEY = 'e2e-migrations:ledger';

export interface LockOptions {
  /** How long to wait for another run's lock, in ms. */
  readonly timeoutMs: number;
  /** Told who holds the lock while we wait (each time that changes). */
  readonly onWait?: (holder: string) => void;
}

/** One connection that runs SQL (the run's `Postgres`, or Kysely's lent connection). */
interface SqlRunner {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: any[] }>;
}

const POLL_MS = 200;

/**
 * Takes the session-level advisory lock that serialises migrations, polling with
 * `pg_try_advisory_lock` so that the wait is bounded and says who holds the lock (pid,
 * application_name, since when) instead of blocking silently for Kysely's hour.
 */
export async function acquireMigrationLock(db: SqlRunner, options: LockOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let holder = '';
  for (;;) {
    const { rows } = await db.query('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [MIGRATION_LOCK_KEY]);
    if (rows[0]?.locked) return;
    const now = await lockHolder(db);
    if (now !== holder) {
      holder = now;
      options.onWait?.(holder);
    }
    if (Date.now() >= deadline) {
      throw new MigrationError(
        `the migration lock is still held after ${options.timeoutMs} ms by ${holder}; ` +
          'wait for that run to finish or stop it, or raise lockTimeoutMs (--lock-timeout MS)',
        {},
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}

export async function releaseMigrationLock(db: SqlRunner): Promise<void> {
  await db.query('select pg_advisory_unlock(hashtextextended($1, 0))', [MIGRATION_LOCK_KEY]);
}

/** `pid 4242 (application_name "e2e-migrations", user slm_user, since 2026-11-23T11:00:00Z, active)`. */
async function lockHolder(db: SqlRunner): Promise<string> {
  // A bigint advisory key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits).
  const { rows } = await db.query(
    `with key as (select hashtextextended($1, 0) as k)
     select a.pid, a.application_name, a.usename, a.backend_start, a.state
     from pg_locks l join pg_stat_activity a on a.pid = l.pid, key
     where l.locktype = 'advisory' and l.granted and l.objsubid = 1
       and l.classid = ((key.k >> 32) & 4294967295)::oid and l.objid = (key.k & 4294967295)::oid
     limit 1`,
    [MIGRATION_LOCK_KEY],
  );
  const row = rows[0] as { pid: number; application_name: string; usename: string; backend_start: Date; state: string } | undefined;
  if (!row) return 'another session (its details are not visible to this user)';
  return `pid ${row.pid} (application_name "${row.application_name}", user ${row.usename}, connected since ${new Date(row.backend_start).toISOString()}, ${row.state})`;
}
