import { rangeOf } from '../migrate/partition-bound.ts';
import type { Postgres } from '../postgres/connect.ts';

/** One partitioned table's coverage of the horizon: this month through `monthsAhead`. */
export interface TableHorizon {
  readonly table: string;
  /** False when the table does not exist (yet). */
  readonly exists: boolean;
  /** False when it exists but is not partitioned. */
  readonly partitioned: boolean;
  /** Months of the horizon (`YYYY-MM`) no range partition covers, oldest first. */
  readonly missing: readonly string[];
  /** Months only a DEFAULT partition takes (rows go there; a later monthly partition for them fails while it holds any). */
  readonly onlyDefault: readonly string[];
}

/**
 * Which months from `now`'s UTC month through `monthsAhead` after it each table's partitions
 * cover, found by their bounds (`pg_get_expr(relpartbound)`), whatever they are named.
 * Read-only: two catalog queries.
 */
export async function partitionHorizon(pg: Postgres, tables: readonly string[], now: Date, monthsAhead: number): Promise<TableHorizon[]> {
  if (tables.length === 0) return [];
  const { rows: found } = await pg.query<{ name: string; relkind: string | null }>(
    `select t.name, c.relkind::text as relkind
     from unnest($1::text[]) with ordinality as t(name, n)
     left join pg_class c on c.oid = to_regclass(t.name)
     order by t.n`,
    [tables],
  );
  const { rows: bounds } = await pg.query<{ parent: string; bound: string | null }>(
    `select t.name as parent, pg_get_expr(c.relpartbound, c.oid) as bound
     from unnest($1::text[]) as t(name)
     join pg_inherits i on i.inhparent = to_regclass(t.name)
     join pg_class c on c.oid = i.inhrelid`,
    [tables],
  );
  const months = horizonMonths(now, monthsAhead);
  return found.map((row) => {
    const ranges = bounds.filter((b) => b.parent === row.name && b.bound !== null).map((b) => rangeOf(b.bound!));
    const hasDefault = ranges.some((r) => r === 'default');
    const covered = (month: Month) => ranges.some((r) => r !== 'default' && r !== undefined && r.from <= month.start && r.to >= month.end);
    const uncovered = months.filter((m) => !covered(m));
    return Object.freeze({
      table: row.name,
      exists: row.relkind !== null,
      partitioned: row.relkind === 'p',
      missing: Object.freeze(hasDefault ? [] : uncovered.map((m) => m.label)),
      onlyDefault: Object.freeze(hasDefault ? uncovered.map((m) => m.label) : []),
    });
  });
}

interface Month {
  readonly label: string;
  readonly start: number;
  readonly end: number;
}

/** This UTC month and the `monthsAhead` after it. */
export function horizonMonths(now: Date, monthsAhead: number): Month[] {
  return Array.from({ length: monthsAhead + 1 }, (_, offset) => {
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1);
    const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset + 1, 1);
    return { label: new Date(start).toISOString().slice(0, 7), start, end };
  });
}
