import { startEmbeddedTarget } from './embedded-target.ts';
import type { EmbeddedServer } from './embedded-server.ts';

export interface SharedServerOptions {
  readonly user: string;
  readonly password: string;
  readonly onLog?: (line: string) => void;
  /** Aborts the start when this holder is the one starting it. */
  readonly signal?: AbortSignal;
}

/** What `acquireSharedServer` returns: the server, and whether this holder started it. */
export interface SharedServerHold extends EmbeddedServer {
  /** True for the holder whose acquisition started the server; false for those that joined it. */
  readonly started: boolean;
}

interface Entry {
  readonly server: Promise<EmbeddedServer>;
  holders: number;
}

// One per process, on globalThis: Vitest and Jest may load this module more than once (a
// project's setup from dist, another's inlined), and two copies must still find one server.
const SERVERS = Symbol.for('e2e-migrations.shared-embedded-servers');
function servers(): Map<string, Entry> {
  const holder = globalThis as { [SERVERS]?: Map<string, Entry> };
  return (holder[SERVERS] ??= new Map());
}

/**
 * The embedded server this process's test run shares: the projects of one Vitest run (each
 * global setup of `test.projects`) or one Jest run (`projects`) all run in the runner's main
 * process, one after another; the first starts the server, the others join it, and the last
 * to close stops it. Each holder works in a database of its own (see embedded-database.ts),
 * so sharing the server costs a project nothing in isolation and saves it a start (~1.2 s).
 *
 * Keyed by the superuser's name and password: a project that asks for other credentials gets
 * a server of its own rather than one that would refuse its login.
 */
export async function acquireSharedServer(options: SharedServerOptions): Promise<SharedServerHold> {
  const key = `${options.user}\0${options.password}`;
  const table = servers();
  let entry = table.get(key);
  const started = entry === undefined;
  if (!entry) {
    const server = startEmbeddedTarget({
      user: options.user,
      password: options.password,
      database: 'postgres',
      ...(options.onLog ? { onLog: options.onLog } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }).then((target): EmbeddedServer => ({ admin: target.connection, description: target.description, close: target.close, [Symbol.asyncDispose]: target.close }));
    entry = { server, holders: 0 };
    table.set(key, entry);
    // A start that failed is forgotten, so the next project tries again rather than inheriting the failure.
    server.catch(() => table.get(key) === entry && table.delete(key));
  }
  entry.holders += 1;
  const own = entry;
  let server: EmbeddedServer;
  try {
    server = await own.server;
  } catch (error) {
    own.holders -= 1;
    throw error;
  }
  let released = false;
  const close = async () => {
    if (released) return;
    released = true;
    own.holders -= 1;
    if (own.holders > 0) return;
    if (table.get(key) === own) table.delete(key);
    await server.close();
  };
  return Object.freeze({ admin: server.admin, description: server.description, started, close, [Symbol.asyncDispose]: close });
}
