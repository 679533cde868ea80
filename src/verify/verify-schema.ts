import { VerificationError } from '../errors/errors.ts';
import type { SqlConnection } from '../migrate/monthly-partitions.ts';
import { rangeOf } from '../migrate/partition-bound.ts';
import type { SchemaSpec } from '../schema/define-schema.ts';

export interface VerifySchemaOptions {
  /** Relations that must exist. */
  readonly tables: readonly string[];
  /** Column-level expectations; relations not in it are only checked to exist. */
  readonly schema?: SchemaSpec;
  /** Partitioned tables must have a partition that accepts this date (UTC). */
  readonly now: Date;
}

interface ColumnRow {
  relation: string;
  relkind: string;
  column: string | null;
  type: string | null;
  not_null: boolean | null;
  has_default: boolean | null;
  /** Partitioned tables, first row only: partitioned by range on one date column. */
  dated: boolean | null;
  /** With `dated`: the partitions' bounds (`FOR VALUES FROM … TO …`, `DEFAULT`). */
  bounds: (string | null)[] | null;
}

const KIND_NAMES: Record<string, string> = { r: 'table', p: 'partitioned-table', v: 'view', m: 'matview' };

/**
 * Checks that every required relation exists with the columns the schema promises (name,
 * type as `format_type` prints it, NOT NULL, default present), and that each partitioned
 * table has a partition for today. Returns nothing; throws one VerificationError that lists
 * every problem, so a user fixes them all in one go. Plain SQL: it runs on every apply.
 */
export async function verifySchema(db: SqlConnection, options: VerifySchemaOptions): Promise<void> {
  const tables = [...new Set(options.tables)];
  if (tables.length === 0) return;
  // One round trip: the columns, and on each partitioned table's first row whether it is
  // partitioned by range on one date column ("dated") and its partitions' bounds. Verify runs
  // on every apply; three catalog queries were a good part of a no-op apply's time.
  const { rows } = (await db.query(
    `select c.relname as relation, c.relkind::text as relkind, a.attname as column,
           format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null, a.atthasdef as has_default,
           case when c.relkind = 'p' and row_number() over (partition by c.oid order by a.attnum) = 1 then
             exists (select 1 from pg_partitioned_table pt
                     join pg_attribute k on k.attrelid = pt.partrelid and k.attnum = pt.partattrs[0]
                     where pt.partrelid = c.oid and pt.partstrat = 'r' and pt.partnatts = 1
                       and k.atttypid in ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype))
           end as dated,
           case when c.relkind = 'p' and row_number() over (partition by c.oid order by a.attnum) = 1 then
             (select coalesce(json_agg(pg_get_expr(child.relpartbound, child.oid)), '[]'::json)
              from pg_inherits i join pg_class child on child.oid = i.inhrelid where i.inhparent = c.oid)
           end as bounds
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
    left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where c.relname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm')
    order by c.relname, a.attnum`,
    [tables],
  )) as { rows: ColumnRow[] };

  const found = new Map<string, { kind: string; columns: Map<string, ColumnRow> }>();
  const dated = new Map<string, (string | null)[]>();
  for (const row of rows) {
    const relation = found.get(row.relation) ?? { kind: row.relkind, columns: new Map() };
    if (row.column) relation.columns.set(row.column, row);
    found.set(row.relation, relation);
    if (row.dated) dated.set(row.relation, row.bounds ?? []);
  }

  const problems: string[] = [];
  for (const table of tables) {
    const actual = found.get(table);
    if (!actual) {
      problems.push(`missing table ${table}`);
      continue;
    }
    const expected = options.schema?.[table];
    if (!expected) continue;
    const actualKind = KIND_NAMES[actual.kind] ?? actual.kind;
    if (actualKind !== expected.kind) problems.push(`${table} is a ${actualKind}, expected a ${expected.kind}`);
    for (const [name, spec] of Object.entries(expected.columns)) {
      const column = actual.columns.get(name);
      if (!column) {
        problems.push(`missing column ${table}.${name} (${spec.type})`);
        continue;
      }
      if (column.type !== spec.type) problems.push(`column ${table}.${name} is ${column.type}, expected ${spec.type}`);
      // Views report no NOT NULL or defaults of their own; only tables promise them.
      if (expected.kind === 'view') continue;
      if (Boolean(column.not_null) !== spec.notNull) problems.push(`column ${table}.${name} is ${column.not_null ? 'NOT NULL' : 'nullable'}, expected ${spec.notNull ? 'NOT NULL' : 'nullable'}`);
      if (Boolean(column.has_default) !== spec.hasDefault) problems.push(`column ${table}.${name} ${column.has_default ? 'has a default' : 'has no default'}, expected ${spec.hasDefault ? 'one' : 'none'}`);
    }
    for (const name of actual.columns.keys()) {
      if (!(name in expected.columns)) problems.push(`unexpected column ${table}.${name}`);
    }
  }

  problems.push(...partitionProblems(dated, options.now));

  if (problems.length > 0) throw new VerificationError(problems);
}

/**
 * Each table partitioned by range on one date or timestamp column must accept a row dated
 * today: a partition whose range bounds hold today's date, or a DEFAULT partition. Found by
 * bounds, whatever the partitions are named. Tables partitioned by list, hash, or on anything
 * else (an id, an expression) have no "today" and are not checked.
 */
function partitionProblems(dated: ReadonlyMap<string, readonly (string | null)[]>, now: Date): string[] {
  const today = now.toISOString().slice(0, 10);
  const problems: string[] = [];
  for (const [table, bounds] of [...dated].sort(([a], [b]) => a.localeCompare(b))) {
    const accepts = bounds.some((bound) => bound !== null && boundHolds(bound, Date.parse(today)));
    if (!accepts) problems.push(`partitioned table ${table} has no partition for today (${today}); inserts dated today would fail`);
  }
  return problems;
}

/** Whether a partition with this bound takes a row dated `day` (UTC midnight, epoch ms). */
function boundHolds(bound: string, day: number): boolean {
  const range = rangeOf(bound);
  return range === 'default' || (range !== undefined && range.from <= day && day < range.to);
}
