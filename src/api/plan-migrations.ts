import type { MigrationConfigInput } from '../config/config-schema.ts';
import type { ResolvedConfig } from '../config/resolve-config.ts';
import { readApplied } from '../migrate/applied.ts';
import { isGoose, type LoadedMigration, type MigrationSet } from '../migrate/loaded-migration.ts';
import { loadMigrations } from '../migrate/load-migrations.ts';
import { monthsOfWindow, partitionName } from '../migrate/monthly-partitions.ts';
import { selectMigrations } from '../migrate/select-migrations.ts';
import { openResolved, resolveInput, type RunOptions, type StartOptions } from '../session/start-session.ts';

/** One migration of a plan. */
export interface PlannedMigration {
  readonly name: string;
  readonly tables: readonly string[];
  /** Why it is in the plan: `for audit_events`, `needed by 0031_x`, `all tables`, `goose history`. */
  readonly reason: string;
  /** `pending` or `applied`; `unknown` when no database was asked. */
  readonly state: 'pending' | 'applied' | 'unknown';
  /** With `sql`: the statements its `up` sends (what its checksum covers). */
  readonly sql?: readonly string[];
}

/** What `apply` would do, without doing it. */
export interface MigrationPlan {
  /** Where the applied/pending split came from: a database, or none (closure only). */
  readonly database: string | null;
  readonly tables: readonly string[];
  readonly migrations: readonly PlannedMigration[];
  /** Monthly partitions the window asks for, by table (`create` only when a database said they are missing). */
  readonly partitions: readonly { readonly table: string; readonly window: readonly string[] }[];
}

export interface PlanOptions extends StartOptions {
  /** Include the SQL each migration's `up` sends. @default false */
  readonly sql?: boolean;
}

/**
 * Which migrations a run would apply for the configured tables, in order, why each is needed,
 * and — with a URL or Kind target — which are already applied. Changes nothing. Without a
 * target (the embedded default would be empty) it answers from the migrations alone.
 *
 * @example
 * ```ts
 * const plan = await planMigrations({ tables: ['audit_events'] });
 * for (const m of plan.migrations) console.log(m.name, m.reason);
 * ```
 */
export async function planMigrations(input: MigrationConfigInput & RunOptions = {}, options: PlanOptions = {}): Promise<MigrationPlan> {
  const { logger, now, ...block } = input;
  const config = resolveInput(block, options);
  const set = await loadMigrations(config.migrations);
  const selected = selectMigrations(set, config.tables);
  const reasons = reasonsFor(set, config);
  let states: ((m: LoadedMigration) => PlannedMigration['state']) = () => 'unknown';
  let database: string | null = null;
  if (config.target !== 'embedded') {
    await using session = await openResolved(config, { ...(logger !== undefined ? { logger } : {}), ...(now ? { now } : {}) }, options);
    const applied = await session.stage('migrate', async (progress) => {
      const state = await readApplied(await session.connect(), set);
      progress.done(`read the ledger: ${state.applied.length} applied`);
      return state;
    });
    states = (m) => (applied.of(m) ? 'applied' : 'pending');
    database = session.target.description;
  }
  const migrations = await Promise.all(
    selected.map(async (m) =>
      Object.freeze({
        name: m.name,
        tables: m.tables,
        reason: reasons.get(m.name) ?? 'a dependency',
        state: states(m),
        ...(options.sql ? { sql: await sqlOf(m) } : {}),
      }),
    ),
  );
  const window = monthsOfWindow(now ?? new Date(), config.partitions.monthsBack, config.partitions.monthsAhead);
  const partitioned = [...new Set([...selected.flatMap((m) => m.monthlyPartitions), ...config.partitions.tables])];
  return Object.freeze({
    database,
    tables: Object.freeze(selected.flatMap((m) => m.tables)),
    migrations: Object.freeze(migrations),
    partitions: Object.freeze(partitioned.map((table) => Object.freeze({ table, window: window.map((m) => partitionName(table, m.year, m.month)) }))),
  });
}

/** For each migration of the closure, the first reason it is there. */
function reasonsFor(set: MigrationSet, config: ResolvedConfig): Map<string, string> {
  const reasons = new Map<string, string>();
  if (set.kind === 'goose') {
    for (const m of set.migrations) reasons.set(m.name, 'goose history: applied whole, in version order');
    return reasons;
  }
  if (config.tables.length === 0) {
    for (const m of set.migrations) reasons.set(m.name, 'all tables');
    return reasons;
  }
  const byName = new Map(set.migrations.map((m) => [m.name, m]));
  const visit = (m: LoadedMigration, reason: string): void => {
    if (reasons.has(m.name)) return;
    reasons.set(m.name, reason);
    for (const dependency of m.dependsOn) visit(byName.get(dependency)!, `needed by ${m.name}`);
  };
  for (const table of config.tables) {
    const owner = set.migrations.find((m) => m.tables.includes(table));
    if (owner) visit(owner, `for ${table}`);
  }
  return reasons;
}

/** The statements a migration's `up` sends: a goose file's as written, a Kysely module's compiled. */
async function sqlOf(migration: LoadedMigration): Promise<string[]> {
  if (isGoose(migration)) return [...migration.sql.up];
  const { recordStatements } = await import('../migrate/checksum.ts');
  const statements = await recordStatements((db) => migration.up(db));
  return statements.map((s) => (s.parameters.length ? `${s.sql} -- parameters: ${JSON.stringify(s.parameters)}` : s.sql));
}
