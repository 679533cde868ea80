import type { RunnerSession } from '../runner-session.ts';

/*
 * Jest runs globalSetup and globalTeardown in the same process but loads them as separate
 * modules, so what setup opened is handed to teardown on globalThis, per project.
 */

export interface JestRun {
  readonly session: RunnerSession;
  /** process.env values before setup changed them, restored at teardown (undefined: unset). */
  readonly previousEnv: Readonly<Record<string, string | undefined>>;
}

const KEY = Symbol.for('e2e-migrations.jest');

export function jestRuns(): Map<string, JestRun> {
  const holder = globalThis as { [KEY]?: Map<string, JestRun> };
  return (holder[KEY] ??= new Map());
}
