import pg from 'pg';

/**
 * How CREATE DATABASE copies a template (Postgres ≥ 15; older servers only copy files).
 *
 *  - WAL_LOG (the default since 15) copies block by block through the WAL: no checkpoint, but
 *    every page of the ~9 MB template is written to the WAL and, with fsync on, flushed.
 *  - FILE_COPY copies the files and takes a checkpoint before and after.
 *
 * Measured on our templates (9 MB: mostly the catalogs), `npm run bench:isolation`, medians
 * of 15 on a 2-vCPU VM: with fsync off — the embedded server — a checkpoint costs next to
 * nothing and FILE_COPY is the faster, 20 ms against 71 ms for WAL_LOG; with fsync on — Debian's
 * Postgres 15, default configuration — the two checkpoints flush what every session dirtied,
 * and FILE_COPY is the slower, 87 ms against 50 ms (and its drop 69 ms against 17 ms). So the
 * rule follows the checkpoint's price: FILE_COPY where fsync is off, the default otherwise.
 */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY';

/** The first server version that takes `STRATEGY`. */
const STRATEGY_SINCE = 150_000;

const strategies = new WeakMap<pg.ClientBase, Promise<CloneStrategy | undefined>>();

/** The strategy for this client's server (undefined: before 15, no choice), asked once per client. */
export function cloneStrategy(client: pg.ClientBase): Promise<CloneStrategy | undefined> {
  let strategy = strategies.get(client);
  if (!strategy) {
    strategy = client
      .query<{ version: number; fsync: string }>("select current_setting('server_version_num')::int as version, current_setting('fsync') as fsync")
      .then(({ rows: [row] }) => chooseStrategy(row!.version, row!.fsync === 'on'));
    strategy.catch(() => strategies.delete(client));
    strategies.set(client, strategy);
  }
  return strategy;
}

export function chooseStrategy(serverVersionNum: number, fsync: boolean): CloneStrategy | undefined {
  if (serverVersionNum < STRATEGY_SINCE) return undefined;
  return fsync ? 'WAL_LOG' : 'FILE_COPY';
}

/**
 * Creates the database `name` as a copy of `template` on `client`'s server, with the faster
 * strategy for that server ({@link CloneStrategy}). The template must have no connections.
 * Takes no lock: callers that may race a template's rebuild hold its advisory lock, shared
 * (see clone.ts). Errors are Postgres's own (42P04 when `name` exists).
 *
 * @example
 * ```ts
 * await createFromTemplate(admin.client, 'e2e_tpl_0123456789abcdef', 'app_db');
 * ```
 */
export async function createFromTemplate(client: pg.ClientBase, template: string, name: string, strategy?: CloneStrategy): Promise<void> {
  const chosen = strategy ?? (await cloneStrategy(client));
  await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}${chosen ? ` STRATEGY ${chosen}` : ''}`);
}
