import { leaseForProcess } from './process-lease.ts';

/*
 * Loaded by `--import` into every worker process of an `isolate: 'file'` Vitest project whose
 * workers run one test file each (the global setup adds it to the project's `execArgv`); the
 * build bundles it into one file. Node waits for this module before it starts Vitest's worker,
 * so DATABASE_URL names the file's own clone before any of the file's code runs.
 *
 * Without a clone the file must not run on any other database, and must fail as a test fails,
 * not as a crashed worker: DATABASE_URL names no reachable database, the helpers throw the
 * reason, and the reason is said here, once, on the worker's stderr (which Vitest shows).
 */
const lease = await leaseForProcess();
if (lease && 'error' in lease) process.stderr.write(`e2e-migrations: ${lease.error.message}\n`);
