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

/** `audit_events`, 2025, 3 → `audit_events_2025_03`: the naming of a table with no monthly partitions yet. */
export function partitionName(table: string, year: number, month: number): string {
  return `${table}_${String(year).padStart(4, '0')}_${String(month).padStart(2, '0')}`;
}

/**
 * How a table's monthly partitions are named: literal text around a four-digit year and a
 * month, in either order, the month zero-padded or not. `audit_events_2026_11` is
 * `{ prefix: 'audit_events_', yearFirst: true, separator: '_', padMonth: true, suffix: '' }`;
 * `audit_events_y2026m11` has prefix `audit_events_y` and separator `m`.
 */
export interface PartitionNaming {
  readonly prefix: string;
  readonly yearFirst: boolean;
  readonly separator: string;
  readonly padMonth: boolean;
  readonly suffix: string;
}

/** An existing partition: its name and its bound as `pg_get_expr(relpartbound)` prints it. */
export interface ExistingPartition {
  readonly name: string;
  readonly bound: string | null;
}

/** The name `naming` gives a month. */
export function renderPartitionName(naming: PartitionNaming, year: number, month: number): string {
  const y = String(year).padStart(4, '0');
  const m = naming.padMonth ? String(month).padStart(2, '0') : String(month);
  return naming.yearFirst ? `${naming.prefix}${y}${naming.separator}${m}${naming.suffix}` : `${naming.prefix}${m}${naming.separator}${y}${naming.suffix}`;
}

/**
 * The naming a table's monthly partitions already follow, read from the partitions whose
 * bounds are exactly one calendar month: the newest of them gives the pattern (its year and
 * month are found in its name), and where that leaves the month's padding open the other
 * partitions decide. `undefined` when no monthly partition has its year and month in its name;
 * the caller then names them `<table>_YYYY_MM`.
 *
 * @example detectPartitionNaming([{ name: 'ev_y2026m11', bound: "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')" }])
 * // { prefix: 'ev_y', yearFirst: true, separator: 'm', padMonth: true, suffix: '' }
 */
export function detectPartitionNaming(partitions: readonly ExistingPartition[]): PartitionNaming | undefined {
  const monthly = partitions
    .map((partition) => ({ name: partition.name, month: partition.bound === null ? undefined : monthOfBound(partition.bound) }))
    .filter((p): p is { name: string; month: { year: number; month: number } } => p.month !== undefined)
    .sort((a, b) => b.month.year - a.month.year || b.month.month - a.month.month);
  for (const newest of monthly) {
    const candidates = namingsOf(newest.name, newest.month.year, newest.month.month);
    if (candidates.length === 0) continue;
    // The candidate that names the most monthly partitions as they are named; padded on a tie.
    const score = (naming: PartitionNaming) => monthly.filter((p) => renderPartitionName(naming, p.month.year, p.month.month) === p.name).length;
    return candidates.reduce((best, candidate) => (score(candidate) > score(best) ? candidate : best));
  }
  return undefined;
}

/** Every naming under which `name` is the name of (year, month), padded variants first. */
function namingsOf(name: string, year: number, month: number): PartitionNaming[] {
  const y = String(year).padStart(4, '0');
  const found: PartitionNaming[] = [];
  for (let at = name.lastIndexOf(y); at >= 0; at = at === 0 ? -1 : name.lastIndexOf(y, at - 1)) {
    const before = name.slice(0, at);
    const after = name.slice(at + y.length);
    const following = /^(\D*)(\d+)(.*)$/s.exec(after);
    if (following && Number(following[2]) === month && following[2]!.length <= 2) {
      const padded = following[2]!.length === 2;
      for (const padMonth of month >= 10 ? [true, false] : [padded]) {
        found.push(Object.freeze({ prefix: before, yearFirst: true, separator: following[1]!, padMonth, suffix: following[3]! }));
      }
    }
    const preceding = /^(.*?)(\d+)(\D*)$/s.exec(before);
    if (preceding && Number(preceding[2]) === month && preceding[2]!.length <= 2) {
      const padded = preceding[2]!.length === 2;
      for (const padMonth of month >= 10 ? [true, false] : [padded]) {
        found.push(Object.freeze({ prefix: preceding[1]!, yearFirst: false, separator: preceding[3]!, padMonth, suffix: after }));
      }
    }
    if (found.length > 0) break;
  }
  return found;
}

/**
 * The month a range bound covers exactly: `FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')`
 * (a date key), or the same with a midnight time (timestamp and timestamptz keys); anything
 * else (DEFAULT, several columns, other widths) is no monthly partition.
 */
function monthOfBound(bound: string): { year: number; month: number } | undefined {
  const range = MONTHLY_BOUND.exec(bound.trim());
  if (!range) return undefined;
  const [year, month, toYear, toMonth] = range.slice(1).map(Number) as [number, number, number, number];
  if (month < 1 || month > 12) return undefined;
  const next = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 };
  return toYear === next.year && toMonth === next.month ? { year, month } : undefined;
}

const FIRST_OF_MONTH = String.raw`'(\d{4})-(\d{2})-01(?: 00:00:00(?:[+-]\d{2}(?::?\d{2})?)?)?'`;
const MONTHLY_BOUND = new RegExp(String.raw`^FOR VALUES FROM \(${FIRST_OF_MONTH}\) TO \(${FIRST_OF_MONTH}\)$`);

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
 * (empty when all were there). New partitions are named as the table's monthly partitions
 * already are ({@link detectPartitionNaming}: `audit_events_2026_11`, `audit_events_y2026m11`,
 * …), `<table>_YYYY_MM` when it has none; a month whose name exists is there.
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
  // Every run but the first of a month finds the window complete: one read, no transaction,
  // no lock. Anything short of that takes the locked path below, which decides for sure.
  const { rows: bounds } = await db.query(
    `select pg_get_expr(c.relpartbound, c.oid) as bound
     from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = to_regclass($1)`,
    [table],
  );
  const covered = new Set((bounds as { bound: string }[]).map((row) => monthOfBound(row.bound)).filter((m) => m !== undefined).map((m) => `${m.year}-${m.month}`));
  if (months.every((m) => covered.has(`${m.year}-${m.month}`))) return [];
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

  // New partitions follow the naming the table's monthly partitions already use.
  const { rows: partitions } = await db.query(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
     from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = to_regclass($1)`,
    [table],
  );
  const naming = detectPartitionNaming(partitions as ExistingPartition[]);
  const names = months.map((m) => (naming ? renderPartitionName(naming, m.year, m.month) : partitionName(table, m.year, m.month)));
  const tooLong = names.find((name) => Buffer.byteLength(name) > 63);
  if (tooLong) throw new MigrationError(`cannot create partition ${tooLong} of ${table}: the name is longer than Postgres's 63 bytes`);
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

/**
 * Checks the tables a user named for rolling partitions (the block's `partitions.tables`):
 * each must exist once the migrations are applied and be partitioned by range. One
 * ConfigError names every table that is not, and what it is instead.
 */
export async function assertRangePartitioned(db: SqlConnection, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  const { rows } = await db.query(
    `select t.name, c.relkind::text as relkind, p.partstrat::text as strategy
     from unnest($1::text[]) with ordinality as t(name, n)
     left join pg_class c on c.oid = to_regclass(t.name)
     left join pg_partitioned_table p on p.partrelid = c.oid
     order by t.n`,
    [tables],
  );
  const kinds: Record<string, string> = { r: 'a table that is not partitioned', v: 'a view', m: 'a materialized view', f: 'a foreign table', S: 'a sequence', i: 'an index' };
  const problems = (rows as { name: string; relkind: string | null; strategy: string | null }[]).flatMap((row) => {
    if (row.relkind === null) return [`"${row.name}" is not a relation of the database after migrating`];
    if (row.relkind !== 'p') return [`"${row.name}" is ${kinds[row.relkind] ?? `a relation of kind ${row.relkind}`}`];
    if (row.strategy !== 'r') return [`"${row.name}" is partitioned by ${row.strategy === 'l' ? 'list' : 'hash'}, not by range`];
    return [];
  });
  if (problems.length > 0) {
    throw new ConfigError(`"partitions.tables" names what cannot have monthly range partitions: ${problems.join('; ')}`, { key: 'partitions.tables' });
  }
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
