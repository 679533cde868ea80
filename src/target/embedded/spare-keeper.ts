import pg from 'pg';
import type { ConnectionInfo } from '../../postgres/connection-string.ts';
import { withTemplateShared } from '../../provide/clone.ts';
import { createFromTemplate } from '../../provide/create-from-template.ts';
import { isSpareOf, SPARE_CHANNEL, spareName } from '../../provide/spare-database.ts';

/** How the keeper's own connections are named; the idle watch does not count them as clients. */
export const KEEPER_APPLICATION_NAME = 'e2e-migrations reuse keeper';

const TEMPLATE = /^e2e_tpl_[0-9a-f]{16}$/;

export interface SpareKeeperOptions {
  /** The superuser on the server's `postgres` database. */
  readonly admin: ConnectionInfo;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

/**
 * Keeps one spare copy of each template a run asked for (provide/spare-database.ts), so the
 * next run takes its database by a rename instead of waiting for a copy. Listens on the
 * spare channel; makes one copy at a time, under the template's lock held shared — the lock a
 * run holds exclusively while it migrates the template — so a spare is never taken of a
 * template mid-migration. Failures are logged and forgotten: a run without a spare copies.
 * Returns when `signal` aborts.
 */
export async function keepSpares(options: SpareKeeperOptions): Promise<void> {
  const { host, port, user, password, database } = options.admin;
  const client = new pg.Client({ host, port, user, password, database, application_name: KEEPER_APPLICATION_NAME, connectionTimeoutMillis: 5_000 });
  client.on('error', (error) => options.log(`spares: connection lost: ${error.message}`));
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  client.on('notification', ({ channel, payload }) => {
    if (channel !== SPARE_CHANNEL || !payload || !TEMPLATE.test(payload) || queue.includes(payload)) return;
    queue.push(payload);
    wake?.();
  });
  const aborted = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(SPARE_CHANNEL)}`);
    while (!options.signal.aborted) {
      const template = queue.shift();
      if (!template) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        continue;
      }
      await makeSpare(client, template).catch((error: unknown) => options.log(`spares: no spare of ${template}: ${(error as Error).message}`));
    }
  } catch (error) {
    options.log(`spares: stopped: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function makeSpare(client: pg.Client, template: string): Promise<void> {
  await withTemplateShared(client, template, async () => {
    const { rows } = await client.query<{ datname: string; datistemplate: boolean }>(
      'select datname, datistemplate from pg_database where datname = $1 or starts_with(datname, $2)',
      [template, `${template}_spare_`],
    );
    const complete = rows.some((row) => row.datname === template && row.datistemplate);
    if (!complete || rows.some((row) => isSpareOf(row.datname, template))) return; // gone, half-built, or a spare is waiting
    await createFromTemplate(client, template, spareName(template));
  });
}
