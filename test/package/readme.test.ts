import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshDatabase } from '../support/fresh-database.ts';
import { consumerProject, exec, ROOT, userEnv, type ConsumerProject, type Result } from './consumer-project.ts';
import { meetCase } from './meet-case.ts';
import { matchesLines, patternRegExp, section, transcripts, troubleRows, type Runner, type TroubleRow } from './readme.ts';
import { openResources, TROUBLE_CASES, type Resources } from './troubleshooting-cases.ts';

/*
 * The README, checked against the packed package in a project of its own: its console
 * transcripts run and print what it shows, and each row of its troubleshooting table happens
 * under the runners it names, with the line and the exit code it gives. Editing the README
 * without the product (or the product without the README) fails here.
 */

/** A Node older than 22.19, which users may still run the CLI with (the machine's own). */
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path) && Number(/^v(\d+)/.exec(nodeVersion(path))?.[1]) < 22);

function nodeVersion(path: string): string {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'v0'; // not a Node that runs: treated as none
  }
}

let project: ConsumerProject;
let readme: string;
let resources: Resources;
/** The installed bin, as `npx e2e-migrations` finds it. */
let bin: string;

beforeAll(async () => {
  readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  project = await consumerProject('readme');
  bin = join(project.dir, 'node_modules/e2e-migrations/dist/src/cli/bin.js');
  resources = await openResources(join(project.dir, 'case-files'), {
    oldNode: OLD_NODE,
    applyWithCli: async (url, args) => {
      const run = await exec(process.execPath, [bin, 'apply', '--url', url, ...args, '--quiet'], project.dir);
      if (run.code !== 0) throw new Error(`preparing a case, apply failed:\n${run.output}`);
    },
  });
}, 300_000);

afterAll(async () => {
  await resources?.[Symbol.asyncDispose]();
  await project?.[Symbol.asyncDispose]();
});

/** Runs `tasks` at most `limit` at a time (each spawns a runner; the machine has few cores). */
async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Runs a transcript line as a user's shell would, in the consumer project, and collects what it printed. */
function shell(command: string, env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { cwd: project.dir, env: userEnv(env), timeout: 60_000 }, (error, stdout, stderr) => {
      // npm's own warnings about this machine's npm config are not ours to document.
      const ours = stderr.replace(/^npm warn .*\n/gm, '');
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: ours, output: stdout + ours });
    });
  });
}

describe('the README, run against the packed package', () => {
  test('the install command names the tarball npm pack makes of this version', () => {
    const file = project.tarball.split('/').pop()!;
    expect(readme).toContain(`npm install -D ./${file}`);
  });

  test('the CLI examples print what the README shows', async () => {
    const blocks = transcripts(section(readme, '## CLI: `e2e-migrations`'));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // One database for the examples that need one; its name, port and user read as the README's.
    await using db = await freshDatabase('readme_cli');
    const asShown = (text: string) =>
      text
        .replaceAll(`:${db.connection.port}`, ':5432')
        .replaceAll(db.connection.database, 'action_history')
        .replaceAll(`"${db.connection.user}"`, '"slm_user"');
    for (const steps of blocks) {
      let last: Result | undefined;
      for (const { command, expected } of steps) {
        if (command === 'echo $?') {
          expect(`${last?.code}`, `exit code of the step before "echo $?"`).toBe(expected);
          continue;
        }
        const run = await shell(command, { DATABASE_URL: db.url });
        last = run;
        if (expected.startsWith('{')) {
          // A JSON document, formatted in the README for reading: the same value.
          expect(JSON.parse(run.stdout), `$ ${command}\n${run.stderr}`).toEqual(JSON.parse(expected));
          expect(run.stdout.trimEnd().split('\n'), 'one line on stdout').toHaveLength(1);
        } else {
          // What a terminal shows: progress (stderr) first, the result (stdout) after it.
          const shown = asShown(run.stderr + run.stdout);
          expect(matchesLines(expected, shown), `$ ${command}\nREADME:\n${expected}\nprinted:\n${shown}`).toBe(true);
        }
      }
    }
  });

  test('every row of the troubleshooting table happens as shown, with its exit code, in each runner it names', async () => {
    const rows = troubleRows(section(readme, '## Troubleshooting'));
    // Every case is in the table and every row is a case: no row the tests do not make happen.
    expect(rows.map((row) => row.id).sort()).toEqual(TROUBLE_CASES.map((c) => c.id).sort());
    const runs: (() => Promise<string | undefined>)[] = [];
    for (const row of rows) {
      const trouble = TROUBLE_CASES.find((c) => c.id === row.id)!;
      for (const runner of ['vitest', 'jest', 'cli'] as const) {
        expect(row.exitCodes[runner] !== null, `row ${row.id}: ${runner} ${row.exitCodes[runner] === null ? 'has no exit code' : 'has an exit code'} in the README`).toBe(
          trouble.runners.includes(runner),
        );
        if (row.exitCodes[runner] === null) continue;
        if (row.id === 'node-too-old' && !OLD_NODE) continue; // no Node older than 22.19 on this machine
        runs.push(async () => {
          const setup = await trouble.setup(runner, resources);
          const result = await meetCase(project.dir, `${row.id}-${runner}`, runner, setup);
          return problem(row, runner, result);
        });
      }
    }
    const problems = (await pool(runs, 4)).filter((p): p is string => p !== undefined);
    expect(problems, problems.join('\n\n')).toEqual([]);
  }, 300_000);
});

/** What is wrong with one runner's run of a row, or undefined when it shows the row's line and exit code. */
function problem(row: TroubleRow, runner: Runner, result: Result): string | undefined {
  const shown = runner === 'cli' ? result.stderr : result.output;
  const lines = row.messages.map((message) =>
    runner === 'cli' ? `e2e-migrations: ${message.replace(/^config failed: /, '')}` : `SetupError: e2e-migrations (${runner} global setup): ${message}`,
  );
  const wrong: string[] = [];
  if (result.code !== row.exitCodes[runner]) wrong.push(`exit code ${result.code}, the README says ${row.exitCodes[runner]}`);
  if (!lines.some((line) => new RegExp(`^${patternRegExp(line).source}`, 'm').test(shown))) {
    wrong.push(`no line ${lines.map((l) => `"${l}"`).join(' or ')}`);
  }
  if (shown.includes('the global setup should have failed')) wrong.push('a test ran');
  // Vitest: the failure is the run's one error, not a run that found no test files.
  if (runner === 'vitest' && shown.includes('No test files found')) wrong.push('Vitest says "No test files found"');
  if (runner === 'vitest' && !/Test Files\s+no tests[\s\S]*Errors\s+1 error/.test(shown)) wrong.push('Vitest\'s summary is not "Test Files  no tests", "Errors  1 error"');
  return wrong.length ? `${row.id} under ${runner}: ${wrong.join('; ')}\n--- output:\n${result.output}` : undefined;
}
