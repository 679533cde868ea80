import type { ResolvedConfig } from '../config/resolve-config.ts';
import { checksumState, readApplied } from '../migrate/applied.ts';
import type { LoadedMigration, MigrationSet } from '../migrate/loaded-migration.ts';
import { connect, type Postgres } from '../postgres/connect.ts';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import type { TeardownStack } from '../teardown/teardown-stack.ts';
import type { Chain } from './doctor-report.ts';
import { partitionHorizon } from './partition-horizon.ts';

/** What the checks before these found. */
export interface DatabaseLinksInput {
  readonly config: ResolvedConfig;
  /** Where Postgres is reached; undefined when no transport reached it (the reason says why). */
  readonly connection: ConnectionInfo | undefined;
  readonly unreachable?: string;
  /** Where the credentials came from, for the login's fix (e.g. `secret kubernaut-system/postgresql-secret`). */
  readonly credentialsFrom: string;
  /** The migration set and the plan's migrations; undefined when they could not be loaded. */
  readonly plan: { readonly set: MigrationSet; readonly migrations: readonly LoadedMigration[] } | undefined;
  readonly now: Date;
  /** True for a server started empty for this check (embedded): nothing is applied, by design. */
  readonly fresh?: boolean;
  readonly stack: TeardownStack;
}

/**
 * The Postgres login, the ledger and the partition horizon, on a read-only session
 * (`default_transaction_read_only`): the doctor never changes the database.
 */
export async function databaseLinks(chain: Chain, input: DatabaseLinksInput): Promise<void> {
  const pg = await login(chain, input);
  if (!pg) {
    chain.skip('ledger', 'not checked: no login');
    chain.skip('partitions', 'not checked: no login');
    return;
  }
  if (!input.plan) {
    chain.skip('ledger', 'not checked: the migrations did not load');
    chain.skip('partitions', 'not checked: the migrations did not load');
    return;
  }
  const pending = await ledger(chain, pg, input.plan, input);
  await partitions(chain, pg, input.plan, pending, input);
}

async function login(chain: Chain, input: DatabaseLinksInput): Promise<Postgres | undefined> {
  const { connection } = input;
  if (!connection) {
    chain.skip('login', `not checked: ${input.unreachable ?? 'Postgres was not reached'}`);
    return undefined;
  }
  const readOnly = [connection.params.options, '-c default_transaction_read_only=on'].filter(Boolean).join(' ');
  let pg: Postgres;
  try {
    pg = input.stack.use('doctor connection', await connect({ ...connection, params: { ...connection.params, options: readOnly } }, 'e2e-migrations doctor'));
  } catch (error) {
    chain.fail('login', (error as Error).message, loginFix(error, input));
    return undefined;
  }
  const { rows } = await pg.query<{ version: string }>("select current_setting('server_version') as version");
  chain.ok('login', `user "${connection.user}" on database "${connection.database}" at ${connection.host}:${connection.port} (PostgreSQL ${rows[0]?.version}; credentials from ${input.credentialsFrom})`);
  return pg;
}

function loginFix(error: unknown, input: DatabaseLinksInput): string {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code === '28P01' || code === '28000') return `the password or user is wrong: check ${input.credentialsFrom} (or --user, --password, E2E_MIGRATIONS_PASSWORD)`;
  if (code === '3D000') return 'the database does not exist: create it, or give the right one (--database, POSTGRES_DB in the Secret)';
  if (code === 'ECONNREFUSED') return 'nothing listens there: is Postgres running?';
  return 'check that Postgres runs and accepts this user';
}

/** Applied, pending and changed migrations; returns the plan's pending ones. */
async function ledger(chain: Chain, pg: Postgres, plan: NonNullable<DatabaseLinksInput['plan']>, input: DatabaseLinksInput): Promise<Set<string>> {
  // What apply and status read: by name for Kysely, by version for goose (goose_db_version too).
  const state = await readApplied(pg, plan.set);
  const pending = plan.migrations.filter((m) => checksumState(state, m) === 'pending');
  const changed = plan.set.migrations.filter((m) => checksumState(state, m) === 'changed');
  const foreign = state.applied.filter((a) => a.migration === undefined).map((a) => a.entry?.name ?? `version ${a.version}`);
  const applied = plan.set.migrations.filter((m) => checksumState(state, m) !== 'pending').length;
  const detail =
    `${applied} applied, ${pending.length} pending${pending.length ? ` (${names(pending.map((m) => m.name))}; apply applies them)` : ''}, ` +
    `${changed.length} changed since applied` +
    (foreign.length ? `; the ledger also records ${names(foreign)}, which the migrations do not have` : '') +
    (input.fresh ? ' (a server started empty for this check, as each embedded run does)' : '');
  if (changed.length > 0) {
    chain.fail(
      'ledger',
      `${detail}: ${names(changed.map((m) => m.name))} changed after being applied, so apply refuses to run`,
      'restore the applied version of the migration file, or start from an empty database (`e2e-migrations down`, then apply)',
    );
  } else if (foreign.length > 0) {
    chain.warn('ledger', detail, 'is "migrations" the directory this database was migrated from?');
  } else {
    chain.ok('ledger', detail);
  }
  return new Set(pending.map((m) => m.name));
}

/** Every monthly-partitioned table covers this month through `monthsAhead`, by its bounds. */
async function partitions(chain: Chain, pg: Postgres, plan: NonNullable<DatabaseLinksInput['plan']>, pending: ReadonlySet<string>, input: DatabaseLinksInput): Promise<void> {
  const { monthsAhead } = input.config.partitions;
  const createdBy = new Map(plan.migrations.flatMap((m) => m.monthlyPartitions.map((table) => [table, m.name] as const)));
  const tables = [...new Set([...createdBy.keys(), ...input.config.partitions.tables])];
  if (tables.length === 0) {
    chain.skip('partitions', 'no monthly-partitioned tables in the plan');
    return;
  }
  const horizon = await partitionHorizon(pg, tables, input.now, monthsAhead);
  const problems: string[] = [];
  const notes: string[] = [];
  for (const table of horizon) {
    const migration = createdBy.get(table.table);
    if (!table.exists) {
      if (migration && pending.has(migration)) notes.push(`${table.table} comes with pending ${migration}`);
      else problems.push(`${table.table} does not exist`);
    } else if (!table.partitioned) {
      problems.push(`${table.table} is not partitioned`);
    } else if (table.missing.length > 0) {
      const thisMonth = table.missing[0] === horizonLabel(input.now);
      problems.push(`${table.table} has no partition for ${table.missing.join(', ')}${thisMonth ? ' (inserts dated today fail)' : ''}`);
    } else if (table.onlyDefault.length > 0) {
      notes.push(`${table.table}: ${table.onlyDefault.join(', ')} only in its DEFAULT partition`);
    }
  }
  const through = new Date(Date.UTC(input.now.getUTCFullYear(), input.now.getUTCMonth() + monthsAhead, 1)).toISOString().slice(0, 7);
  const window = `${horizonLabel(input.now)} through ${through} (monthsAhead ${monthsAhead})`;
  if (problems.length > 0) {
    chain.fail('partitions', `${problems.join('; ')}; the horizon is ${window}`, 'run `e2e-migrations apply`: it creates the missing months of the window (or raise --months-ahead if the suite writes further ahead)');
    return;
  }
  const ok = horizon.filter((t) => t.exists).map((t) => t.table);
  chain.ok('partitions', `${ok.length ? `${ok.join(', ')} cover${ok.length === 1 ? 's' : ''} ${window}` : `horizon ${window}`}${notes.length ? `; ${notes.join('; ')}` : ''}`);
}

function horizonLabel(now: Date): string {
  return now.toISOString().slice(0, 7);
}

function names(list: readonly string[]): string {
  return list.length > 4 ? `${list.slice(0, 4).join(', ')} and ${list.length - 4} more` : list.join(', ');
}
