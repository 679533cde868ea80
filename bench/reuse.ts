/**
 * What `reuse` saves, median of N runs:
 *
 *  - `e2e-migrations apply --all`, whole process (spawn to exit): starts a server, migrates,
 *    stops it;
 *  - `e2e-migrations apply --all --reuse` after a first run, whole process: finds the server,
 *    takes the spare copy the keeper made since the last run (or copies the template), drops
 *    it at the end — with a pause between runs as a developer's rerun has, and back to back;
 *  - finding the reused server alone: `acquireReusedServer` + `close()` in this process, and
 *    a process that does only that (spawn to exit).
 *
 * Runs the built CLI when dist/ has reuse, else the sources (Node strips the types). Its
 * servers live in a TMPDIR of its own and are stopped at the end.
 *
 *   node bench/reuse.ts [--runs 7]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stopReusedServers } from '../src/api/stop-reused-servers.ts';
import { acquireReusedServer } from '../src/target/embedded/reused-server.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Math.max(7, Number(args.runs));
const ROOT = join(import.meta.dirname, '..');
const built = existsSync(join(ROOT, 'dist/src/target/embedded/reused-server.js'));
const BIN = built ? join(ROOT, 'dist/src/cli/bin.js') : join(ROOT, 'src/cli/bin.ts');
const MODULE = pathToFileURL(join(ROOT, built ? 'dist/src/target/embedded/reused-server.js' : 'src/target/embedded/reused-server.ts')).href;
const USER = 'slm_user';
const PASSWORD = 'bench-reuse-pw';

// Before anything runs: this process, its children and the keepers they start all see it.
process.env.TMPDIR = await mkdtemp(join(tmpdir(), 'bench-reuse-'));

function spawnTimed(argv: readonly string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, E2E_MIGRATIONS_PASSWORD: PASSWORD } });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(once: () => number | Promise<number>, pauseMs = 0): Promise<{ median: number; min: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    times.push(await once());
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

const ACQUIRE_ONLY = `
const { acquireReusedServer } = await import(${JSON.stringify(MODULE)});
const server = await acquireReusedServer({ user: ${JSON.stringify(USER)}, password: process.env.E2E_MIGRATIONS_PASSWORD });
await server.close();
`;

try {
  const first = spawnTimed([BIN, 'apply', '--all', '--reuse', '--quiet']); // starts the server, builds the template
  const rows: [string, { median: number; min: number; max: number }][] = [
    ['apply --all (no reuse)', await measure(() => spawnTimed([BIN, 'apply', '--all', '--quiet']))],
    // As a developer reruns: a pause between runs, in which the keeper makes the next run's
    // copy (the run then takes it by a rename). Back to back, a run may find it still in the making.
    ['apply --all --reuse, 2 s between runs', await measure(() => spawnTimed([BIN, 'apply', '--all', '--reuse', '--quiet']), 2_000)],
    ['apply --all --reuse, back to back', await measure(() => spawnTimed([BIN, 'apply', '--all', '--reuse', '--quiet']))],
    ['acquire + close, in process', await measure(async () => {
      const started = performance.now();
      const server = await acquireReusedServer({ user: USER, password: PASSWORD });
      await server.close();
      return performance.now() - started;
    })],
    ['acquire + close, whole process', await measure(() => spawnTimed(['--input-type=module', '-e', ACQUIRE_ONLY]))],
  ];
  // A Vitest run's setup stage on the reused server: the stages before the tests, as printed.
  const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
  const setupStage = () => {
    const run = spawnSync(process.execPath, [VITEST, 'run', '--root', join(ROOT, 'test/runners/fixtures/vitest-project')], {
      encoding: 'utf8',
      env: { ...process.env, FIXTURE_REUSE: '1', E2E_MIGRATIONS_PASSWORD: PASSWORD, CI: '' },
    });
    if (run.status !== 0) throw new Error(`vitest exited ${run.status}: ${run.stdout}${run.stderr}`);
    const stages = [...run.stderr.matchAll(/^\[e2e-migrations\] (target|migrate|verify|provide)\s+ok\s+(\d+) ms/gm)];
    if (stages.length !== 4) throw new Error(`expected four setup stages:\n${run.stderr}`);
    return stages.reduce((sum, match) => sum + Number(match[2]), 0);
  };
  setupStage(); // builds this selection's template
  rows.push(['Vitest setup stage (target→provide), reused', await measure(setupStage, 2_000)]);
  const nodeAlone = median(Array.from({ length: RUNS }, () => spawnTimed(['-e', '0'])));
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  process.stdout.write(`\nreuse — ${process.version}, ${built ? 'dist' : 'sources'}, median of ${RUNS} runs (Node alone: ${fmt(nodeAlone)}; the first --reuse run: ${fmt(first)})\n\n`);
  for (const [name, t] of rows) process.stdout.write(`${name.padEnd(42)} ${fmt(t.median).padStart(7)}   (${fmt(t.min)}–${fmt(t.max)})\n`);
} finally {
  await stopReusedServers();
  await rm(process.env.TMPDIR, { recursive: true, force: true });
}
