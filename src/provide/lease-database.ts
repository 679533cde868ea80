import { connect, type Socket } from 'node:net';
import { DatabaseError } from '../errors/errors.ts';

/*
 * The test worker's side of database-leases.ts. Imports only node:net: test workers load it.
 *
 * The lease is the TCP connection itself: asked for on one line, granted on one line, held
 * while the connection stays open, and given back when it closes — by `release()`, or by the
 * worker's exit, a crash and a kill alike, so no lease outlives the file that held it.
 */

/** What a worker sends (one JSON line): the run's secret, and the test file, for messages. */
export interface LeaseRequest {
  readonly token: string;
  readonly file: string;
}

/** What the run answers (one JSON line). */
export type LeaseReply = { readonly database: string } | { readonly error: string };

/** A line longer than this is no request of ours. */
export const LEASE_LINE_MAX = 16 * 1024;

export interface Lease {
  /** The database this test file has to itself until `release()`. */
  readonly database: string;
  /** Gives it back (the run puts it back as migrating left it, for the next file). Idempotent. */
  release(): Promise<void>;
}

/**
 * Parses the run's lease address, `<token>@127.0.0.1:<port>` (E2E_MIGRATIONS_LEASES): the
 * token is the run's secret, which only the run's workers have.
 */
export function parseLeaseAddress(address: string): { token: string; host: string; port: number } {
  const match = /^([0-9a-f]{32})@(127\.0\.0\.1):(\d{1,5})$/.exec(address);
  if (!match) throw new DatabaseError(`not a lease address of e2e-migrations: E2E_MIGRATIONS_LEASES must be <token>@127.0.0.1:<port>`, {});
  return { token: match[1]!, host: match[2]!, port: Number(match[3]) };
}

/**
 * Asks the run (the global setup's process) for a database of this test file's own.
 *
 * @example
 * ```ts
 * const lease = await leaseDatabase(process.env.E2E_MIGRATIONS_LEASES!, 'test/a.e2e.ts');
 * // … the file's tests use lease.database …
 * await lease.release();
 * ```
 */
export function leaseDatabase(address: string, file: string): Promise<Lease> {
  const { token, host, port } = parseLeaseAddress(address);
  const where = `the run's database leases on ${host}:${port}`;
  return new Promise<Lease>((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    let buffered = '';
    let settled = false;
    const fail = (text: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new DatabaseError(text, { host, port }, cause === undefined ? undefined : { cause }));
    };
    socket.setEncoding('utf8');
    socket.on('error', (error) =>
      fail(`could not reach ${where} (${(error as Error).message}): the run that handed out this address has ended (or its global setup is not this run's)`, error),
    );
    socket.on('close', () => fail(`${where} closed before granting a database to ${file} (the run is ending?)`));
    socket.on('connect', () => socket.write(`${JSON.stringify({ token, file } satisfies LeaseRequest)}\n`));
    socket.on('data', (chunk: string) => {
      if (settled) return;
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > LEASE_LINE_MAX) fail(`${where} answered with no line of its protocol`);
        return;
      }
      let reply: LeaseReply;
      try {
        reply = JSON.parse(buffered.slice(0, end)) as LeaseReply;
      } catch (error) {
        fail(`${where} answered with no line of its protocol`, error);
        return;
      }
      if ('error' in reply) {
        fail(`no database for ${file}: ${reply.error}`);
        return;
      }
      settled = true;
      // Held, not waited on: the worker may exit whenever it is done, which releases it.
      socket.unref();
      let released: Promise<void> | undefined;
      resolve(
        Object.freeze({
          database: reply.database,
          release: () =>
            (released ??= new Promise<void>((done) => {
              if (socket.destroyed) return done();
              socket.once('close', () => done());
              socket.end();
            })),
        }),
      );
    });
  });
}
