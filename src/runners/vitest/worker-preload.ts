import { leaseForProcess } from './process-lease.ts';

/*
 * Loaded by `--import` into every worker process of an `isolate: 'file'` Vitest project whose
 * workers run one test file each (the global setup adds it to the project's `execArgv`); the
 * build bundles it into one file. Node waits for this module before it starts Vitest's worker,
 * so DATABASE_URL names the file's own clone before any of the file's code runs.
 *
 * Without a clone the file must not run at all — on another database it would not be isolated —
 * so the worker says why on one line and exits: Vitest reports the file as failed.
 */
try {
  await leaseForProcess();
} catch (error) {
  process.stderr.write(`e2e-migrations: ${(error as Error).message}\n`);
  process.exit(1);
}
