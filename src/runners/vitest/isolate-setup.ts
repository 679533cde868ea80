import { databaseUrl } from './database.ts';

/**
 * A Vitest setup file for `isolate: 'file'`: gives the test file its clone before its tests
 * run and points DATABASE_URL at it. `e2eMigrations()` adds it to `setupFiles` for you.
 */
await databaseUrl();
