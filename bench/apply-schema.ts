/**
 * Issue 2 figures: time to apply the full DS schema to an empty database (cold), time of a
 * re-run when everything is applied, and how many catalog lines match the description.
 * Run: `node bench/apply-schema.ts [iterations]` (Node 24 via `npm run bench`).
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { applyAllMigrations } from '../src/api/apply-migrations.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';
import { formatConnectionString } from '../src/postgres/connection-string.ts';

const iterations = Number(process.argv[2] ?? 5);
const server = await startEmbeddedTarget({ user: 'postgres', password: 'bench', database: 'postgres' });
const admin = new pg.Client({ ...server.connection });
await admin.connect();

const cold: number[] = [];
const warm: number[] = [];
let lastUrl = '';
try {
  for (let i = 0; i < iterations; i++) {
    const name = `bench_${i}`;
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
    lastUrl = formatConnectionString({ ...server.connection, database: name });
    let started = performance.now();
    await applyAllMigrations({ url: lastUrl, logger: false });
    cold.push(performance.now() - started);
    started = performance.now();
    await applyAllMigrations({ url: lastUrl, logger: false });
    warm.push(performance.now() - started);
  }

  const [catalogSql, expected] = await Promise.all([
    readFile(new URL('../fixtures/schema/catalog.sql', import.meta.url), 'utf8'),
    readFile(new URL('../fixtures/schema/ds-v1.catalog.txt', import.meta.url), 'utf8'),
  ]);
  const client = new pg.Client({ connectionString: lastUrl });
  await client.connect();
  const { rows } = await client.query<{ l: string }>(catalogSql);
  await client.end();
  const actual = new Set(rows.map((row) => row.l));
  const wanted = expected.split('\n').filter(Boolean);
  const matching = wanted.filter((line) => actual.has(line)).length;

  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
  };
  console.log(`Postgres ${(await admin.query('show server_version')).rows[0].server_version}, ${iterations} iterations, API applyAllMigrations via URL (connect + migrate + verify)`);
  console.log(`cold apply of the full schema:  ${stats(cold)}`);
  console.log(`re-run, everything applied:     ${stats(warm)}`);
  console.log(`catalog lines matching the description: ${matching}/${wanted.length} (extra lines: ${rows.length - matching})`);
} finally {
  await admin.end();
  await server.close();
}
