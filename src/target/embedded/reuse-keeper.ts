/**
 * The keeper of a reused embedded Postgres: a small Node process, started detached (its own
 * session, no terminal) by the run that found no server (reused-server.ts), that outlives that
 * run. It starts the server with `startEmbeddedTarget` — the server's lifetime is the
 * keeper's, exactly as an ordinary run's server lives as long as its run (supervisor.ts): a
 * keeper killed even with SIGKILL takes the server and its directory with it, and the run
 * directory's owner record names the keeper, so other runs' clean-up (stale-runs.ts) leaves
 * it alone while it lives. As root the server runs as `postgres`, as in any run.
 *
 * It then waits for the run to take it over (keeper-protocol.ts), records itself in the
 * state folder (reuse-state.ts), and watches the server's clients (idle-watch.ts); after the
 * idle timeout, or on SIGTERM (`e2e-migrations stop`), SIGINT or SIGHUP, it removes its
 * record, stops the server and exits, leaving nothing. When the server dies under it, it
 * cleans up the same way and leaves `<key>.log`: the server's last lines. It opens no port.
 *
 * Run as `node reuse-keeper.(ts|js) e2e-migrations-reuse-keeper`; its input comes on stdin.
 */
import { rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { redact } from '../../report/redact.ts';
import type { ConnectionInfo } from '../../postgres/connection-string.ts';
import type { StartedTarget } from '../target.ts';
import { startEmbeddedTarget } from './embedded-target.ts';
import { watchUntilIdle } from './idle-watch.ts';
import { keepSpares } from './spare-keeper.ts';
import { DETACH, KEEPER_MARK, type KeeperInput, type KeeperMessage } from './keeper-protocol.ts';
import { ownRecord } from './owner-record.ts';
import { readReuseRecord, removeReuseRecord, reusePaths, writeReuseRecord, type ReusePaths } from './reuse-state.ts';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
/** The server's last lines kept for the log of a keeper that ends badly. */
const TAIL_LINES = 100;

async function keep(): Promise<number> {
  // After the hand-over nobody reads our stdout and stderr: a write there must not kill us.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const stop = new AbortController();
  for (const signal of STOP_SIGNALS) process.on(signal, () => stop.abort(`stopped by ${signal}`));

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) return 1;
  const input = JSON.parse(first.value as string) as KeeperInput;
  const paths = reusePaths(input.folder, input.key);
  const handedOver = (async () => {
    for (let line = await lines.next(); !line.done; line = await lines.next()) if (line.value === DETACH) return true;
    return false;
  })();
  // Until the hand-over, the starting run's pipe is our lifeline.
  void handedOver.then((yes) => yes || stop.abort('the run that started it went away before taking it over'));

  // Before the hand-over, lines go to the starting run; after it, the last ones are kept, and
  // written to the key's log only when the keeper ends badly (the server died, a stop failed).
  let detached = false;
  const tail: string[] = [];
  const log = (line: string): void => {
    const text = redact(line, [input.password]);
    if (!detached) return void process.stderr.write(`${text}\n`);
    tail.push(`${new Date().toISOString()} ${text}`);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const send = (message: KeeperMessage): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

  let target: StartedTarget;
  try {
    target = await startEmbeddedTarget({ user: input.user, password: input.password, database: 'postgres', onLog: log, signal: stop.signal });
  } catch (error) {
    const { name, message } = error as Error;
    send({ event: 'failed', name, message: redact(message, [input.password]) });
    return 1;
  }
  let clean = false;
  try {
    const data = await dataDirectory(target.connection);
    send({ event: 'ready', port: target.connection.port, data });
    const stopped = new Promise<false>((resolve) => {
      if (stop.signal.aborted) resolve(false);
      else stop.signal.addEventListener('abort', () => resolve(false), { once: true });
    });
    if (!(await Promise.race([handedOver, stopped]))) return 1;
    await writeReuseRecord(paths, {
      format: 1,
      key: input.key,
      version: input.version,
      user: input.user,
      port: target.connection.port,
      data,
      keeper: await ownRecord(),
      idleTimeoutMs: input.idleTimeoutMs,
      startedAt: new Date().toISOString(),
    });
    send({ event: 'detached' });
    detached = true;
    // Copies of the templates runs use, made between runs, so the next run's database is a rename.
    const spares = new AbortController();
    const keepingSpares = keepSpares({ admin: target.connection, signal: spares.signal, log });
    const end = await watchUntilIdle({ admin: target.connection, idleTimeoutMs: input.idleTimeoutMs, lockPath: paths.lock, retire: () => removeOwnRecord(paths), signal: stop.signal });
    spares.abort();
    await keepingSpares;
    log(`stopping ${target.description}: ${end.reason}`);
    clean = end.ended !== 'unreachable';
  } catch (error) {
    log(`failed: ${(error as Error).message}`);
    throw error;
  } finally {
    try {
      await removeOwnRecord(paths);
      await target.close();
    } catch (error) {
      clean = false;
      log(`could not stop cleanly: ${(error as Error).message}`);
    }
    // A clean stop leaves nothing behind; otherwise the log says what happened.
    if (clean) await rm(paths.log, { force: true });
    else if (detached) await writeFile(paths.log, `${tail.join('\n')}\n`, { mode: 0o600 }).catch(() => undefined);
  }
  return 0;
}

/** Where the server keeps its data, as it says: what tells it from another server on the port. */
async function dataDirectory(admin: ConnectionInfo): Promise<string> {
  const { host, port, user, password, database } = admin;
  const client = new pg.Client({ host, port, user, password, database });
  client.on('error', () => undefined); // the query reports what matters
  await client.connect();
  try {
    const { rows } = await client.query<{ data_directory: string }>('show data_directory');
    return rows[0]!.data_directory;
  } finally {
    await client.end();
  }
}

/** Removes the record if it is still this keeper's (a newer server may have replaced it). */
async function removeOwnRecord(paths: ReusePaths): Promise<void> {
  const record = await readReuseRecord(paths.record);
  const me = await ownRecord();
  if (record && record !== 'unreadable' && record.keeper.pid === me.pid && record.keeper.startTime === me.startTime) await removeReuseRecord(paths);
}

// Only when started as a keeper: imported by mistake, this module must not take over (and exit) its importer.
// Exits explicitly: a keeper that lingered on some forgotten handle would be a process nobody stops.
if (process.argv[2] === KEEPER_MARK) {
  keep().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`e2e-migrations reuse keeper: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
