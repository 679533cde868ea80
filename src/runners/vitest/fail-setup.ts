import type { TestProject } from 'vitest/node';

/**
 * Ends Vitest's run after our global setup failed, so that the failure reads as what it is.
 *
 * Thrown as it is, the error leaves Vitest's run with no test files and no recorded errors,
 * and its reporter prints "No test files found, exiting with code 1" with the include globs
 * first — a wrong lead — then the error. Recorded as an error of the run instead, the
 * summary shows it once ("Errors  1 error") and Vitest exits 1; the TestsNotFoundError thrown
 * then is the one Vitest itself ends such a run with, and prints nothing more for. Both are
 * Vitest's (its state API is marked experimental): if either is missing, the error is thrown
 * as it is and reads as before.
 */
export async function failSetup(project: TestProject, error: unknown): Promise<never> {
  const state = (project.vitest as { state?: { catchError?: (error: unknown, type: string) => void } }).state;
  if (typeof state?.catchError !== 'function') throw error;
  // Loaded only here: the main process already holds it, and a setup that works never needs it.
  const { TestsNotFoundError } = (await import('vitest/node')) as { TestsNotFoundError?: new () => Error };
  if (typeof TestsNotFoundError !== 'function') throw error;
  // Vitest prints an error's own properties too ("Serialized Error: { exitCode: 2, … }"), which
  // would contradict the code Vitest exits with; the line already names the stage and values.
  state.catchError(error instanceof Error ? Object.assign(new Error(error.message), { name: error.name, stack: `${error.name}: ${error.message}` }) : error, 'Unhandled Error');
  throw new TestsNotFoundError();
}
