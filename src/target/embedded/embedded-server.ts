import type { ConnectionInfo } from '../../postgres/connection-string.ts';

/**
 * A running embedded Postgres, apart from any database a run works in: started for this
 * process alone, shared by the projects of one test run (shared-server.ts), or kept between
 * runs (`reuse`). Several sessions may hold one server; each works in its own database.
 */
export interface EmbeddedServer extends AsyncDisposable {
  /** Superuser connection to the server's `postgres` database, on 127.0.0.1. Holds the password. */
  readonly admin: ConnectionInfo;
  /** E.g. `embedded Postgres 16 on 127.0.0.1:41234`, without secrets. */
  readonly description: string;
  /**
   * Gives up this holder's use of the server: an owned server stops and its directory is
   * deleted; a shared or reused one stays up for its other holders (or the next run).
   * Idempotent.
   */
  close(): Promise<void>;
}
