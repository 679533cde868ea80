/**
 * Issue "Fast isolation", item 3: how long `resetDatabase()` takes for audit_events +
 * audit_retention_policies, with a few rows written between resets (the goal: median ≤ 25 ms).
 *
 *  - as a test runs it: Vitest's and Jest's `resetDatabase()` reuse the worker's kept
 *    connection, which is `resetTables(keptConnection(url), tables)` — measured here without a
 *    runner around it;
 *  - the API's `resetDatabase(url)`, which connects and disconnects each time;
 *  - for comparison, the same reset made to TRUNCATE (what it does above DELETE_MAX_BYTES, or
 *    when the caller does not own the tables), which is what the DELETE path avoids.
 *
 *   node bench/reset.ts [--resets 100]
 *
 * One embedded Postgres 16, started for the bench.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { prepareDatabase } from '../src/api/prepare-database.ts';
import { resetDatabase } from '../src/api/reset-database.ts';
import { formatConnectionString } from '../src/postgres/connection-string.ts';
import { closeKeptConnection, keptConnection } from '../src/provide/kept-connection.ts';
import { resetTables, type ResetResult } from '../src/provide/reset-tables.ts';
import { RESET_FUNCTION } from '../src/provide/seed-sql.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';

const { values: args } = parseArgs({ options: { resets: { type: 'string', default: '100' } } });
const RESETS = Math.max(50, Number(args.resets));
const GOAL_MS = 25;
const TABLES = ['audit_events', 'audit_retention_policies'];

const server = await startEmbeddedTarget({ user: 'postgres', password: 'bench', database: 'postgres' });
const admin = new pg.Client({ ...server.connection });
await admin.connect();
try {
  await admin.query('CREATE DATABASE bench_reset');
  const url = formatConnectionString({ ...server.connection, database: 'bench_reset' });
  await using prepared = await prepareDatabase({ url, tables: TABLES, logger: false });
  const writer = new pg.Client({ connectionString: url });
  await writer.connect();

  /** What a test does between resets: three audit events (one under legal hold), sometimes a changed policy. */
  const write = async (i: number, changePolicy: boolean) => {
    await writer.query(
      `insert into audit_events (event_date, event_type, event_category, event_action, event_outcome, correlation_id, resource_type, resource_id, actor_type, actor_id, event_data, legal_hold)
       select (now() at time zone 'UTC')::date, 'bench.write', 'bench', 'write', 'success', $1 || '-' || n, 'bench', 'r' || n, 'bench', 'bench', '{"n": 1}', n = 1
       from generate_series(1, 3) n`,
      [`bench-${i}`],
    );
    if (changePolicy) await writer.query("update audit_retention_policies set retention_days = 30 where event_category = 'workflow'");
  };

  const measure = async (label: string, changePolicy: boolean, reset: () => Promise<ResetResult | unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < RESETS + 5; i++) {
      await write(i, changePolicy);
      const started = performance.now();
      await reset();
      if (i >= 5) times.push(performance.now() - started); // the first few warm plans and caches
    }
    const { rows } = await writer.query<{ n: number }>('select count(*)::int as n from audit_events');
    if (rows[0]!.n !== 0) throw new Error(`${label}: ${rows[0]!.n} rows left after the reset`);
    const sorted = times.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
    return { label, median: at(0.5), p90: at(0.9) };
  };

  const kept = () => keptConnection(url).then((db) => resetTables(db, TABLES, prepared.connection));
  const results = [
    await measure('resetDatabase(), kept connection (as in a test)', false, kept),
    await measure('  … and a seed row changed each time', true, kept),
    await measure('API resetDatabase(url), connecting each time', false, () => resetDatabase(url, { tables: TABLES })),
    await measure('forced to TRUNCATE (above DELETE_MAX_BYTES)', false, () =>
      keptConnection(url).then((db) => db.query(`select ${RESET_FUNCTION}($1::text[], 0, 0)`, [TABLES])),
    ),
  ];
  await closeKeptConnection();
  await writer.end();

  const { rows: version } = await admin.query<{ server_version: string }>('show server_version');
  console.log(`Postgres ${version[0]!.server_version} (embedded), ${RESETS} resets each of ${TABLES.join(' + ')}, 3 audit events written before each (one under legal hold)`);
  for (const { label, median, p90 } of results) console.log(`${label.padEnd(52)} median ${median.toFixed(1).padStart(5)} ms   p90 ${p90.toFixed(1).padStart(5)} ms`);
  const headline = results[0]!;
  console.log(`goal: median ≤ ${GOAL_MS} ms — ${headline.median <= GOAL_MS ? 'met' : 'NOT met'} (${headline.median.toFixed(1)} ms)`);
} finally {
  await admin.end();
  await server.close();
}
