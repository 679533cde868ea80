import type { TestProject } from 'vitest/node';
import { startEmbeddedTarget } from '../../src/target/embedded/embedded-target.ts';
import type { ConnectionInfo } from '../../src/postgres/connection-string.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection to the suite's own embedded Postgres 16. */
    pgAdmin: ConnectionInfo;
  }
}

/** One real Postgres for the whole suite; each test file makes its own databases in it. */
export default async function setup(project: TestProject) {
  const target = await startEmbeddedTarget({ user: 'postgres', password: 'suite-admin-pw', database: 'postgres' });
  project.provide('pgAdmin', target.connection);
  return () => target.close();
}
