import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * A service repository as a user has one: a fresh project outside this repository, with the
 * packed tarball of this package installed next to Vitest, Jest and pg. The package tests run
 * the README's files, commands and messages there, against what `npm publish` would ship.
 */

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '../..');
/** The consumer files the README shows (test/package/consumer/), copied into the project. */
export const CONSUMER = join(import.meta.dirname, 'consumer');

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout then stderr. */
  readonly output: string;
}

/** This process's environment without the outer Vitest's and e2e-migrations' own variables, as a user's shell has it. */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VITEST|JEST_|E2E_MIGRATIONS_|DATABASE_URL$|TEST$|NODE_ENV$)/.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1', ...extra };
}

/** Runs a program without a shell, in a user's environment (plus `env`), and collects its output and exit code; never rejects. */
export async function exec(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, [...args], { cwd, env: userEnv(env), timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    const stdout = e.stdout ?? '';
    const stderr = e.stderr ?? '';
    return { code: typeof e.code === 'number' ? e.code : 1, stdout, stderr, output: stdout + stderr };
  }
}

export interface ConsumerProject extends AsyncDisposable {
  /** The project's directory (in a private 0700 temp directory, like /root or a CI workspace). */
  readonly dir: string;
  /** The tarball `npm pack` made, and the files it holds. */
  readonly tarball: string;
  readonly files: readonly string[];
}

/**
 * Packs this package (dist/ as the last build left it: `npm test` builds first) and installs
 * the tarball into a copy of test/package/consumer/, as `npm install -D ./e2e-migrations-<version>.tgz`
 * would. Throws with npm's output when packing or installing fails.
 */
export async function consumerProject(name: string): Promise<ConsumerProject> {
  const work = await mkdtemp(join(tmpdir(), `e2e-migrations-${name}-`));
  try {
    const pack = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
    const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const dir = join(work, 'service');
    await cp(CONSUMER, dir, { recursive: true });
    const versions = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify(
        {
          name: 'gateway-e2e',
          private: true,
          type: 'module',
          // Only the consumer's own dependencies: the runners, pg, and us.
          devDependencies: {
            'e2e-migrations': `file:${join(work, info.filename)}`,
            vitest: versions.devDependencies.vitest,
            jest: versions.devDependencies.jest,
            pg: '^8.0.0',
            '@types/node': versions.devDependencies['@types/node'],
          },
        },
        null,
        2,
      ),
    );
    const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
    return {
      dir,
      tarball: join(work, info.filename),
      files: info.files.map((f) => f.path),
      [Symbol.asyncDispose]: () => rm(work, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
