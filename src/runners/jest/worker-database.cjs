'use strict';
/**
 * Jest `setupFiles` entry for `isolate: 'file'`: points DATABASE_URL (and E2E_MIGRATIONS_URL,
 * E2E_MIGRATIONS_DATABASE) at the clone the global setup made for this worker. Plain
 * CommonJS on purpose: Jest loads setup files through its own module system, which needs no
 * transform for it.
 */
const worker = process.env.JEST_WORKER_ID || '1';
const url = process.env[`E2E_MIGRATIONS_CLONE_URL_${worker}`];
if (url) {
  process.env.DATABASE_URL = url;
  process.env.E2E_MIGRATIONS_URL = url;
  process.env.E2E_MIGRATIONS_DATABASE = decodeURIComponent(new URL(url).pathname.slice(1));
}
