import { DatabaseError, E2eMigrationsError } from '../errors/errors.ts';
import type { StoppedServer } from '../target/embedded/stop-reused.ts';

export type { StoppedServer } from '../target/embedded/stop-reused.ts';

export interface StopReusedOptions {
  /** Says what `stop` waits for when a run is starting or finding a server right now. */
  readonly onWait?: (what: string) => void;
}

/**
 * Stops the embedded Postgres servers that `reuse` keeps running between runs — those of the
 * user calling it — now, instead of after their idle timeout, and removes what they left
 * (process, run directory, record). Resolves with each one found; empty when none ran. A run
 * using one of them loses its connections. `e2e-migrations stop` on the command line.
 *
 * @example
 * ```ts
 * for (const server of await stopReusedServers()) console.log(`stopped ${server.description}`);
 * ```
 */
export async function stopReusedServers(options: StopReusedOptions = {}): Promise<readonly StoppedServer[]> {
  const { stopReusedServers: stop } = await import('../target/embedded/stop-reused.ts');
  try {
    return Object.freeze(await stop(options));
  } catch (error) {
    if (error instanceof E2eMigrationsError) throw error;
    throw new DatabaseError(`could not stop the reused embedded Postgres: ${(error as Error).message}`, {}, { cause: error });
  }
}
