import pg from 'pg';
import type { ConnectionInfo } from '../postgres/connection-string.ts';
import { assertClonePrefix, assertTemplateName, pooledName } from './clone-names.ts';
import { openClient } from '../postgres/open-client.ts';
import { cloneAs, withTemplateShared } from './clone.ts';

/**
 * How many databases a run prepares ahead of its test files. `ahead` are kept ready at a time
 * (the first test files start together); `total` caps what the run prepares in all (Vitest
 * knows its test files; Jest does not, and leaves it open).
 */
export interface PoolSize {
  readonly ahead: number;
  /** @default Infinity */
  readonly total?: number;
}

/** A pool never keeps more than this many ready: each is a ~10 MB copy made while tests run. */
export const POOL_AHEAD_CAP = 8;

export interface PoolSummary {
  /** Databases prepared. */
  readonly made: number;
  /** Of those, claimed by test files (as the filler heard of it). */
  readonly claimed: number;
  /** Why filling stopped early (a lost connection, a failed copy); the files then cloned directly. */
  readonly error?: string;
}

/**
 * The run's pool of clones, filled in the background from global setup on: each is a copy of
 * the template named `<prefix>pool_<random>`, which a test file claims by renaming it (see
 * `claimDatabase` in clone.ts) instead of waiting for a copy. The filler listens on the
 * run's prefix for claims and tops the pool up until `total` are made. Failing to fill is
 * never a test failure: a file that finds the pool empty clones directly. Teardown stops the
 * filler (waiting for the copy in progress), then drops the run's databases, pool included.
 *
 * @example
 * ```ts
 * const pool = ClonePool.start(connection, template, prefix, Promise.resolve({ ahead: 4, total: 12 }));
 * // … tests claim …
 * const { made, claimed } = await pool.stop();
 * ```
 */
export class ClonePool {
  readonly #connection: ConnectionInfo;
  readonly #template: string;
  readonly #prefix: string;
  #client: pg.Client | undefined;
  #stopped = false;
  #ready = 0;
  #made = 0;
  #claimed = 0;
  #error: string | undefined;
  #wake: (() => void) | undefined;
  readonly #filling: Promise<void>;

  private constructor(connection: ConnectionInfo, template: string, prefix: string, size: PoolSize | Promise<PoolSize>) {
    this.#connection = connection;
    this.#template = template;
    this.#prefix = prefix;
    this.#filling = this.#fill(size).catch((error: unknown) => {
      if (!this.#stopped) this.#error = (error as Error).message;
    });
  }

  /** Starts filling now, without waiting for anything: `size` may still be being worked out. */
  static start(connection: ConnectionInfo, template: string, prefix: string, size: PoolSize | Promise<PoolSize>): ClonePool {
    assertTemplateName(template);
    assertClonePrefix(prefix);
    return new ClonePool(connection, template, prefix, size);
  }

  async #fill(sizing: PoolSize | Promise<PoolSize>): Promise<void> {
    const size = await sizing;
    const ahead = Math.max(0, Math.min(POOL_AHEAD_CAP, Math.floor(size.ahead)));
    const total = size.total ?? Number.POSITIVE_INFINITY;
    if (this.#stopped || ahead === 0 || total <= 0) return;
    const client = (this.#client = await openClient(this.#connection, 'e2e-migrations pool'));
    client.on('notification', (message) => {
      if (message.channel !== this.#prefix) return;
      this.#claimed++;
      this.#ready--;
      this.#wake?.();
    });
    client.on('error', (error) => {
      if (!this.#stopped && this.#made < total) this.#error ??= error.message;
      this.#wake?.();
    });
    await client.query(`LISTEN ${pg.escapeIdentifier(this.#prefix)}`);
    while (!this.#stopped && this.#made < total && this.#error === undefined) {
      if (this.#ready >= ahead) {
        // Woken by a claim, by stop(), or by the connection's loss — not polled.
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const name = pooledName(this.#prefix);
      await withTemplateShared(client, this.#template, () => cloneAs(client, this.#template, name));
      this.#made++;
      this.#ready++;
    }
    // Made all it will: stay listening, only to count the claims still to come, until stop().
  }

  /** Stops filling (the copy in progress completes) and says what the pool did. Idempotent. */
  async stop(): Promise<PoolSummary> {
    this.#stopped = true;
    this.#wake?.();
    await this.#filling;
    await this.#client?.end().catch(() => undefined); // a lost connection is closed
    this.#client = undefined;
    return Object.freeze({ made: this.#made, claimed: this.#claimed, ...(this.#error ? { error: this.#error } : {}) });
  }
}
