import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { LEASE_LINE_MAX, type LeaseReply, type LeaseRequest } from './lease-database.ts';

/**
 * What the listener asks of whoever hands out databases (database-leases.ts): one for a test
 * file, then word of how the lease ended.
 */
export interface LeaseGrantor<T extends { readonly name: string }> {
  /** A database for `file`; a rejection's message is what the worker is told. */
  take(file: string): Promise<T>;
  /** Delivered to the worker: the file holds it from now on. */
  granted(database: T): void;
  /** The file's connection closed: it is done with the database it held. */
  released(database: T): void;
  /** Taken, but the file went before it could be told: never used. */
  unclaimed(database: T): void;
}

/**
 * The run's side of lease-database.ts: listens on 127.0.0.1 only (a free port), accepts one
 * JSON request per connection from whoever holds the run's random token, and holds the
 * connection as the lease. A connection without the token, or that speaks no protocol of
 * ours, is closed with nothing said. Sockets are unref'd: a lease never keeps the run's
 * process alive; close() ends them all.
 */
export class LeaseListener<T extends { readonly name: string }> {
  readonly #grantor: LeaseGrantor<T>;
  readonly #token = randomBytes(16).toString('hex');
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  private constructor(grantor: LeaseGrantor<T>) {
    this.#grantor = grantor;
    this.#server = createServer((socket) => this.#serve(socket));
  }

  static async listen<T extends { readonly name: string }>(grantor: LeaseGrantor<T>): Promise<LeaseListener<T>> {
    const listener = new LeaseListener(grantor);
    const server = listener.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    listener.#port = (server.address() as { port: number }).port;
    server.on('error', () => {}); // after listening, errors are per socket
    server.unref(); // the runner decides when its process ends; close() closes this
    return listener;
  }

  /** For the workers (E2E_MIGRATIONS_LEASES): `<token>@127.0.0.1:<port>`. The token is the run's secret: not for logs. */
  get address(): string {
    return `${this.#token}@127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Stops listening and ends every connection (the grantor hears of each lease ending). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.unref();
    socket.setEncoding('utf8');
    socket.on('error', () => {}); // a worker that dies resets its connection: 'close' follows
    let buffered = '';
    let held: T | undefined;
    let closed = false;
    const reply = (message: LeaseReply) => socket.write(`${JSON.stringify(message)}\n`);
    socket.on('close', () => {
      closed = true;
      this.#sockets.delete(socket);
      if (held) this.#grantor.released(held);
    });
    socket.on('end', () => socket.end()); // the worker released: close our side too
    const onData = (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > LEASE_LINE_MAX) socket.destroy();
        return;
      }
      socket.off('data', onData); // one request per connection
      const request = parseRequest(buffered.slice(0, end));
      if (!request || !this.#tokenMatches(request.token)) {
        socket.destroy(); // not one of the run's workers: nothing to tell
        return;
      }
      this.#grantor.take(request.file).then(
        (database) => {
          if (closed) return this.#grantor.unclaimed(database); // the file went first (a cancelled run)
          held = database;
          this.#grantor.granted(database);
          reply({ database: database.name });
        },
        (error: Error) => {
          if (!closed) reply({ error: error.message });
          socket.end();
        },
      );
    };
    socket.on('data', onData);
  }

  #tokenMatches(token: string): boolean {
    return token.length === this.#token.length && timingSafeEqual(Buffer.from(token), Buffer.from(this.#token));
  }
}

function parseRequest(line: string): LeaseRequest | undefined {
  try {
    const value = JSON.parse(line) as Partial<LeaseRequest>;
    return typeof value === 'object' && value !== null && typeof value.token === 'string' && typeof value.file === 'string' ? (value as LeaseRequest) : undefined;
  } catch {
    return undefined;
  }
}
