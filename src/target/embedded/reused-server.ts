import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Client } from 'pg';
import { REUSE_IDLE_TIMEOUT_MS } from '../../config/defaults.ts';
import { ConfigError, DatabaseError, E2eMigrationsError } from '../../errors/errors.ts';
import { connectionInfo, type ConnectionInfo } from '../../postgres/connection-string.ts';
import { once } from '../../util/once.ts';
import { embeddedPostgresVersion } from './embedded-binaries.ts';
import type { EmbeddedServer } from './embedded-server.ts';
import { START_WAIT_MS } from './keeper-protocol.ts';
import { isOwnerGone } from './owner-record.ts';
import { lockFile, type HeldLock, type LockHolder } from './reuse-lock.ts';
import { readReuseRecord, removeReuseRecord, reuseFolder, reuseKey, reusePaths, type ReusePaths, type ReuseRecord } from './reuse-state.ts';

export interface ReusedServerOptions {
  readonly user: string;
  readonly password: string;
  /** Each line initdb and the server print while this run starts one, and clean-up notes. */
  readonly onLog?: (line: string) => void;
  /** What this run waits for while another run holds the key's lock. @default onLog */
  readonly onWait?: (what: string) => void;
  /** Aborts the wait, or the start in progress (what it made is stopped and removed). */
  readonly signal?: AbortSignal;
  /** A server this run starts stops itself after this long without a client. @default REUSE_IDLE_TIMEOUT_MS (15 min) */
  readonly idleTimeoutMs?: number;
}

/** A run's hold on the reused server. */
export interface ReusedServerHold extends EmbeddedServer {
  /** True when this run started the server; false when it found it running. */
  readonly started: boolean;
  /** The server stops itself after this long without a client (as the run that started it said). */
  readonly idleTimeoutMs: number;
}

/** A found server answers at once or is replaced: it is already running. */
const FOUND_LOGIN_TIMEOUT_MS = 5_000;
/** The embedded server listens on this address only (as embedded-target.ts's EMBEDDED_HOST). */
const HOST = '127.0.0.1';

/**
 * The embedded Postgres kept between runs (`reuse`): finds the one running for this key — the
 * binaries' version, the superuser and its password (reuse-state.ts) — or starts one that
 * outlives this run (reuse-keeper.ts), and returns this run's hold on it.
 *
 * - The key's lock (reuse-lock.ts) is held while the record is read and the server logged in
 *   to — and, when there is none, until the one started is recorded: two runs never start two
 *   servers; the second waits (`onWait` says for whom) and then uses the first one's.
 * - A found server is used only after a login, on the data directory its record names. A
 *   record whose keeper is gone, or whose server does not answer, is cleaned up — keeper
 *   stopped, directory removed, record deleted — and a new server started.
 * - The hold keeps one connection (the login) open until `close()`, which only ends it: the
 *   server stays up for the next run. The keeper counts connections; after `idleTimeoutMs`
 *   with none it stops the server. A run that dies drops its connection with it.
 *
 * Migrations are not part of the key: each run works in a database cloned from the template
 * of its own migrations (provide/template.ts), so a server found with other migrations gets
 * another template, never a stale one.
 *
 * @example
 * await using server = await acquireReusedServer({ user: 'postgres', password: 'pw' });
 * console.log(server.started ? 'started' : 'found', server.admin.port);
 */
export async function acquireReusedServer(options: ReusedServerOptions): Promise<ReusedServerHold> {
  checkOptions(options);
  const log = options.onLog ?? (() => undefined);
  const wait = options.onWait ?? ((what: string) => log(`waiting for ${what}`));
  try {
    const version = await embeddedPostgresVersion();
    const paths = reusePaths((await reuseFolder({ create: true }))!, reuseKey(version, options.user, options.password));
    const lock = await lockFile(paths.lock, {
      doing: 'looking for the reused embedded Postgres',
      timeoutMs: START_WAIT_MS,
      onWait: (holder) => wait(describeHolder(holder, paths)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let held: ReusedServerHold | undefined;
    try {
      held = (await findServer(paths, version, options, log)) ?? (await startServer(paths, version, lock, options, log));
    } finally {
      await lock.release().catch(async (error: unknown) => {
        await held?.close(); // the caller never gets it: its connection must not keep this process alive
        throw error;
      });
    }
    return held;
  } catch (error) {
    throw acquireError(error, options);
  }
}

/** The recorded server, held; undefined when there is none (a dead or mismatched one is cleaned up). */
async function findServer(paths: ReusePaths, version: string, options: ReusedServerOptions, log: (line: string) => void): Promise<ReusedServerHold | undefined> {
  const record = await readReuseRecord(paths.record);
  if (record === undefined) return undefined;
  if (record === 'unreadable') {
    log(`replacing ${paths.record}: not a record this version of e2e-migrations can read`);
    await removeReuseRecord(paths);
    return undefined;
  }
  let problem: string;
  if (record.version !== version || record.user !== options.user) {
    problem = `it runs Postgres ${record.version} for "${record.user}"`;
  } else if (await isOwnerGone(record.keeper)) {
    problem = `its keeper (pid ${record.keeper.pid}) is gone`;
  } else {
    const admin = adminOn(record.port, options);
    let lease: Client | undefined;
    try {
      lease = await leaseOn(admin, FOUND_LOGIN_TIMEOUT_MS);
      const { rows } = await lease.query<{ data_directory: string }>('show data_directory');
      if (rows[0]?.data_directory === record.data) return hold(admin, lease, false, record.idleTimeoutMs);
      problem = `the server on port ${record.port} serves ${rows[0]?.data_directory}, not ${record.data}`;
    } catch (error) {
      problem = `it does not accept a login: ${(error as Error).message}`;
    }
    await lease?.end().catch(() => undefined);
  }
  await discard(record, paths, problem, log);
  return undefined;
}

/** Stops what a record names and deletes the record. */
async function discard(record: ReuseRecord, paths: ReusePaths, problem: string, log: (line: string) => void): Promise<void> {
  log(`replacing the reused embedded Postgres on ${HOST}:${record.port}: ${problem}`);
  const { stopKeeper } = await import('./keeper-process.ts');
  if (!(await stopKeeper(record.keeper))) {
    // Its keeper is gone, and its supervisor too if the server still runs: nobody else will stop it.
    const [{ runningServer }, { removeRunDirectory }, { resolveServerUser }] = await Promise.all([
      import('./stop-server.ts'),
      import('./run-directory.ts'),
      import('./server-user.ts'),
    ]);
    if ((await runningServer(record.data)) !== undefined) await removeRunDirectory(dirname(record.data), await resolveServerUser());
  }
  await removeReuseRecord(paths);
}

/** Starts a keeper and its server, logs in, and hands the server over to the keeper. */
async function startServer(paths: ReusePaths, version: string, lock: HeldLock, options: ReusedServerOptions, log: (line: string) => void): Promise<ReusedServerHold> {
  const idleTimeoutMs = options.idleTimeoutMs ?? REUSE_IDLE_TIMEOUT_MS;
  if (existsSync(paths.log)) log(`the last reused embedded Postgres of this key ended badly; its last lines are in ${paths.log}`);
  await lock.update('starting the reused embedded Postgres');
  const { startKeeper } = await import('./keeper-process.ts');
  const keeper = await startKeeper(
    { user: options.user, password: options.password, idleTimeoutMs, folder: paths.folder, key: paths.key, version },
    { onLog: log, ...(options.signal ? { signal: options.signal } : {}) },
  );
  const admin = adminOn(keeper.port, options);
  let lease: Client | undefined;
  try {
    options.signal?.throwIfAborted();
    lease = await leaseOn(admin, FOUND_LOGIN_TIMEOUT_MS);
    await keeper.detach();
  } catch (error) {
    await lease?.end().catch(() => undefined);
    await keeper.abandon();
    throw error;
  }
  return hold(admin, lease, true, idleTimeoutMs);
}

function hold(admin: ConnectionInfo, lease: Client, started: boolean, idleTimeoutMs: number): ReusedServerHold {
  const close = once(() => lease.end().catch(() => undefined)); // a server stopped meanwhile: nothing left to release
  return Object.freeze({ admin, description: `embedded Postgres 16 on ${HOST}:${admin.port}`, started, idleTimeoutMs, close, [Symbol.asyncDispose]: close });
}

/**
 * The hold's connection: what tells the keeper this run uses the server, from before the lock
 * is released until `close()` (see idle-watch.ts).
 */
async function leaseOn(admin: ConnectionInfo, timeoutMs: number): Promise<Client> {
  // Held idle: if the server goes away meanwhile, the run's own connections say so.
  const { openClient } = await import('../../postgres/open-client.ts');
  return openClient({ ...admin, params: { ...admin.params, connect_timeout: String(Math.ceil(timeoutMs / 1000)) } }, 'e2e-migrations reuse hold');
}

function adminOn(port: number, options: ReusedServerOptions): ConnectionInfo {
  return connectionInfo({ host: HOST, port, user: options.user, password: options.password, database: 'postgres' });
}

function describeHolder(holder: LockHolder, paths: ReusePaths): string {
  return `pid ${holder.pid}, which is ${holder.doing} (since ${holder.since}; lock ${paths.lock})`;
}

function checkOptions(options: ReusedServerOptions): void {
  // The keeper hands it to initdb, which reads the first line of its password file.
  if (options.password === '' || /[\r\n]/.test(options.password)) {
    throw new ConfigError('the embedded Postgres needs a password of one non-empty line', { key: 'password' });
  }
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && !(Number.isInteger(idle) && idle > 0)) {
    throw new ConfigError(`the reused server's idle timeout must be a positive number of milliseconds, got ${idle}`, { key: 'idleTimeoutMs' });
  }
}

/** Every failure as one error of the family, naming the address; never the password. */
function acquireError(error: unknown, options: ReusedServerOptions): E2eMigrationsError {
  const details = { host: HOST, database: 'postgres', user: options.user };
  if (options.signal?.aborted) return new DatabaseError('finding or starting the reused embedded Postgres was aborted', details, { cause: options.signal.reason });
  if (error instanceof E2eMigrationsError) return error;
  return new DatabaseError(`could not find or start the reused embedded Postgres: ${(error as Error).message}`, details, { cause: error });
}
