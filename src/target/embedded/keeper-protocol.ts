import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DatabaseError } from '../../errors/errors.ts';

/*
 * What the run starting a reused server (reused-server.ts) and the keeper it starts
 * (reuse-keeper.ts) say to each other, one JSON line at a time:
 *
 *   run → keeper, stdin:  KeeperInput, later DETACH
 *   keeper → run, stdout: { event: 'ready' } or { event: 'failed' }, later { event: 'detached' }
 *   keeper → run, stderr: initdb's and the server's lines while it starts
 *
 * Until DETACH, the run's end of stdin is the keeper's lifeline: a run that dies or gives up
 * during the start takes the server with it. After DETACH the keeper writes the record and
 * lives on its own; the run closes the pipes.
 */

/** Every keeper's command line holds this argument: checked before a pid read from a record is signalled. */
export const KEEPER_MARK = 'e2e-migrations-reuse-keeper';
/** The line that hands the server over to the keeper. */
export const DETACH = 'detach';
/**
 * How long a start may take — initdb (up to 2 min), the first login (up to 1 min), the
 * keeper's own start — and so how long a run waits for another run's start to finish.
 */
export const START_WAIT_MS = 4 * 60_000;

export interface KeeperInput {
  readonly user: string;
  /** Travels through the pipe only; the keeper keeps it in memory to count clients. */
  readonly password: string;
  readonly idleTimeoutMs: number;
  /** The state folder and the key (reuse-state.ts). */
  readonly folder: string;
  readonly key: string;
  readonly version: string;
}

export type KeeperMessage =
  | { readonly event: 'ready'; readonly port: number; readonly data: string }
  | { readonly event: 'failed'; readonly name: string; readonly message: string }
  | { readonly event: 'detached' };

/**
 * The keeper's script: beside this module — `.ts` in this repository, `.js` once built — or,
 * in the built CLI, whose modules are bundled into chunks in dist/src/cli, where tsc put it.
 */
export function keeperScript(): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const candidates = [`./reuse-keeper${extension}`, `../target/embedded/reuse-keeper${extension}`].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new DatabaseError(`the reused embedded Postgres cannot be started: its keeper is missing (looked for ${candidates.join(' and ')})`);
  return found;
}
