import { afterAll, expect, inject } from 'vitest';
import { leaseFileDatabase, releaseFileDatabase } from './file-lease.ts';

/**
 * A Vitest setup file for `isolate: 'file'` where a worker runs several test files (`pool:
 * 'threads'`, `isolate: false`): leases the test file its clone before its tests run and points
 * DATABASE_URL at it; gives it back after the file's own `afterAll` hooks (Vitest runs
 * after-hooks in reverse, and this file's come first). The global setup adds it to such a
 * project's `setupFiles`; a worker process per file leases as it starts instead
 * (worker-preload.ts). It loads only the lease (file-lease.ts).
 */
const provided = inject('e2eMigrations') as ReturnType<typeof inject<'e2eMigrations'>> | undefined;
if (!provided) {
  throw new Error('e2e-migrations: no database was provided to this setup file; add "e2e-migrations/vitest" to test.globalSetup and a test.migrations block to the Vitest config');
}
const file = expect.getState().testPath ?? '';
if (provided.isolate) await leaseFileDatabase({ ...provided, isolate: provided.isolate }, file);
afterAll(() => releaseFileDatabase(file));
