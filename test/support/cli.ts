import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The CLI from its sources, run with the Node that runs this suite (it strips the types). */
export const CLI = join(import.meta.dirname, '../../src/cli/bin.ts');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `e2e-migrations …args` as a user would and collects what it printed and its exit code. */
export function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
