import { afterAll } from 'vitest';
import { databaseUrl, releaseDatabase } from './database.ts';

/**
 * A Vitest setup file for `isolate: 'file'`: leases the test file its clone before its tests
 * run and points DATABASE_URL at it; gives it back after the file's own `afterAll` hooks
 * (Vitest runs after-hooks in reverse, and this file's come first). `e2eMigrations()` adds
 * it to `setupFiles`, and the global setup adds it when the block was written by hand.
 */
await databaseUrl();
afterAll(releaseDatabase);
