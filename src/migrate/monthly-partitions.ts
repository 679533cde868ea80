import { ConfigError, MigrationError } from '../errors/errors.ts';

export interface MonthlyPartitionOptions {
  /** The partitioned parent, a plain lower-case identifier resolved through the search path. */
  readonly table: string;
  /** The clock; only its UTC year and month matter. */
  readonly now: Date;
  readonly monthsBack: number;
  readonly monthsAhead: number;
}

/** One calendar month of a window and the range bounds of its partition. */
export interface PartitionMonth {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  /** First day of the month, `YYYY-MM-DD` (inclusive bound). */
  readonly from: string;
  /** First day of the next month, `YYYY-MM-DD` (exclusive bound). */
  readonly to: string;
}

/** A window wider than ten years is a typo, not a plan: it would create hundreds of tables. */
export const MAX_WINDOW_MONTHS = 120;

// The partition name gets `_YYYY_MM` (8 characters) appended and must stay within
// Postgres's 63-byte identifier limit, or Postgres would silently truncate it.
const MAX_TABLE_NAME_LENGTH = 63 - 8;
const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;

/** `audit_events`, 2025, 3 → `audit_events_2025_03`. */
export function partitionName(table: string, year: number, month: number): string {
  return `${table}_${String(year).padStart(4, '0')}_${String(month).padStart(2, '0')}`;
}

/**
 * The months from `monthsBack` before `now`'s UTC month to `monthsAhead` after it, oldest
 * first. UTC on purpose: the partitions must not depend on the timezone of the machine
 * that happens to run the migration.
 */
export function monthsOfWindow(now: Date, monthsBack: number, monthsAhead: number): PartitionMonth[] {
  validateNow(now);
  validateCount('monthsBack', monthsBack);
  validateCount('monthsAhead', monthsAhead);
  const months: PartitionMonth[] = [];
  for (let offset = -monthsBack; offset <= monthsAhead; offset++) {
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    months.push(
      Object.freeze({
        year: start.getUTCFullYear(),
        month: start.getUTCMonth() + 1,
        from: isoDate(start),
        to: isoDate(end),
      }),
    );
  }
  return months;
}

/** One connection that runs SQL: our `Postgres`, or a `pg.Client` (not a pool: this takes a transaction or a savepoint). */
export interface SqlConnection {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: any[] }>;
}

/**
 * Makes sure `table` has one partition per month of the window; returns the names it created
 * (empty when all were there).
 *
 * Many test processes may apply migrations against the same database at once, so the work
 * runs in a transaction under an advisory lock keyed on the table: the losers wait, then
 * find the partitions already in `pg_inherits` and create nothing. Plain SQL on purpose: it
 * runs on every apply, also when there is nothing to migrate and Kysely is never loaded.
 */
export async function ensureMonthlyPartitions(db: SqlConnection, options: MonthlyPartitionOptions): Promise<string[]> {
  const { table } = options;
  validateTable(table);
  const months = monthsOfWindow(options.now, options.monthsBack, options.monthsAhead);
  // Inside the caller's transaction, a savepoint (committing it would commit the caller's
  // work); otherwise a transaction of our own. SAVEPOINT outside a transaction is 25P01.
  const nested = await db.query('savepoint e2e_monthly_partitions').then(
    () => true,
    (error: { code?: string }) => {
      if (error.code === '25P01') return false;
      throw error;
    },
  );
  const [open, done, undo] = nested
    ? [undefined, 'release savepoint e2e_monthly_partitions', 'rollback to savepoint e2e_monthly_partitions']
    : ['begin', 'commit', 'rollback'];
  if (open) await db.query(open);
  try {
    const created = await createMissing(db, table, months);
    await db.query(done);
    return created;
  } catch (error) {
    await db.query(undo).catch(() => undefined); // the first error is the one to report
    throw error;
  }
}

async function createMissing(db: SqlConnection, table: string, months: readonly PartitionMonth[]): Promise<string[]> {
  await db.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`e2e-migrations:monthly-partitions:${table}`]);
  const { rows: parents } = await db.query(
    `select n.nspname as schema, c.relkind::text as relkind
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.oid = to_regclass($1)`,
    [table],
  );
  const found = parents[0] as { schema: string; relkind: string } | undefined;
  if (!found) throw new MigrationError(`cannot create monthly partitions: table ${table} does not exist`);
  if (found.relkind !== 'p') throw new MigrationError(`cannot create monthly partitions: ${table} is not a partitioned table`);

  const names = months.map((m) => partitionName(table, m.year, m.month));
  // Read after taking the lock: under READ COMMITTED each statement sees what the
  // previous lock holder committed.
  const { rows: existing } = await db.query(
    `select c.relname,
            exists (select 1 from pg_inherits i where i.inhrelid = c.oid and i.inhparent = to_regclass($1)) as is_partition
     from pg_class c
     where c.relnamespace = (select relnamespace from pg_class where oid = to_regclass($1))
       and c.relname = any($2::text[])`,
    [table, names],
  );
  const present = new Set<string>();
  for (const row of existing as { relname: string; is_partition: boolean }[]) {
    if (!row.is_partition) {
      throw new MigrationError(`cannot create partition ${found.schema}.${row.relname}: a relation with that name exists and is not a partition of ${table}`);
    }
    present.add(row.relname);
  }

  const created: string[] = [];
  for (const [index, month] of months.entries()) {
    const name = names[index]!;
    if (present.has(name)) continue;
    // DDL takes no bind parameters: identifiers are quoted by Postgres's own format(%I) and the
    // bounds (%L) are dates computed above, never input.
    const { rows } = await db.query(
      `select format('create table %I.%I partition of %I.%I for values from (%L) to (%L)', $1::text, $2::text, $1::text, $3::text, $4::text, $5::text) as ddl`,
      [found.schema, name, table, month.from, month.to],
    );
    await db.query((rows[0] as { ddl: string }).ddl);
    created.push(name);
  }
  return created;
}

function validateTable(table: unknown): asserts table is string {
  if (typeof table !== 'string' || !TABLE_NAME.test(table) || table.length > MAX_TABLE_NAME_LENGTH) {
    throw new ConfigError(
      `option table must be a lower-case identifier of at most ${MAX_TABLE_NAME_LENGTH} characters, got ${JSON.stringify(table)}`,
      { key: 'table' },
    );
  }
}

function validateNow(now: unknown): asserts now is Date {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new ConfigError(`option now must be a valid Date, got ${String(now)}`, { key: 'now' });
  }
}

function validateCount(option: 'monthsBack' | 'monthsAhead', value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_WINDOW_MONTHS) {
    throw new ConfigError(`option ${option} must be an integer from 0 to ${MAX_WINDOW_MONTHS}, got ${String(value)}`, {
      key: option,
    });
  }
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
