/**
 * What a CLI call costs, whole process (spawn to exit), median of N runs:
 *
 *  - `e2e-migrations --help` (loads no driver);
 *  - `e2e-migrations list` (the shipped set from its build-time manifest, no database);
 *  - `e2e-migrations apply --all --url …` against a database that has everything applied
 *    (connect, ledger, partitions, verify: the work every later run of a suite repeats).
 *
 * Runs the built CLI (dist/, as users get it) with the project's Node.
 *
 *   node bench/startup.ts [--runs 15]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { applyMigrations } from '../src/api/apply-migrations.ts';
import { formatConnectionString } from '../src/postgres/connection-string.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(args.runs);
const BIN = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'bin.js');

function timeOf(argv: readonly string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`e2e-migrations ${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure(argv: readonly string[]): { median: number; min: number; max: number } {
  timeOf(argv); // warm-up: page cache, Node's compile cache
  const times = Array.from({ length: RUNS }, () => timeOf(argv));
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

const server = await startEmbeddedTarget({ user: 'slm_user', password: 'bench-pw', database: 'action_history' });
try {
  const url = formatConnectionString(server.connection);
  await applyMigrations({ url, tables: 'all', logger: false });
  const nodeAlone = (() => {
    const times = Array.from({ length: RUNS }, () => {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      return performance.now() - started;
    });
    return median(times);
  })();
  const rows = [
    ['e2e-migrations --help', measure(['--help'])],
    ['e2e-migrations list', measure(['list'])],
    ['apply --all --url (nothing to apply)', measure(['apply', '--all', '--url', url, '--quiet'])],
  ] as const;
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  process.stdout.write(`\nCLI start-up — ${process.version}, median of ${RUNS} runs, whole process (Node alone: ${fmt(nodeAlone)})\n\n`);
  for (const [name, t] of rows) process.stdout.write(`${name.padEnd(40)} ${fmt(t.median).padStart(7)}   (${fmt(t.min)}–${fmt(t.max)})\n`);
} finally {
  await server.close();
}
