import { TeardownError } from '../errors/errors.ts';

/** Anything a run opens: a handle with `close()`, or an async disposable. */
export type Closable = { close(): Promise<void> | void } | AsyncDisposable;

interface Entry {
  readonly resource: string;
  readonly close: () => Promise<void> | void;
}

/**
 * The one teardown of a run. Every resource is put on the stack the moment it opens; closing
 * the stack closes them in reverse order, attempts every close even when an earlier one
 * throws, and throws one TeardownError listing what failed. Closing twice (runner teardown
 * and a signal racing each other) runs it once: both callers wait for the same close.
 *
 * Node ≥ 24 has `AsyncDisposableStack` with these semantics; we support Node 22, which has
 * not, and want resource names in the error, so this is the same idea in thirty lines.
 */
export class TeardownStack implements AsyncDisposable {
  readonly #entries: Entry[] = [];
  #closing: Promise<void> | undefined;

  /** True once `close()` has been called: nothing may be added after that. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Registers `handle` under `resource` (a name for messages) and returns it. A handle that
   * finishes opening after teardown began (a signal during start-up) is closed at once.
   */
  use<T extends Closable>(resource: string, handle: T): T {
    const close = 'close' in handle ? () => handle.close() : async () => (handle as AsyncDisposable)[Symbol.asyncDispose]();
    this.defer(resource, close);
    return handle;
  }

  /** Registers a clean-up step that has no handle (a directory, a listener, a report). */
  defer(resource: string, close: () => Promise<void> | void): void {
    if (this.#closing) {
      // Too late to be part of the ordered teardown: close it now, then let the caller stop.
      this.#closing = this.#closing.finally(close);
      throw new TeardownError([{ resource, error: new Error('opened after teardown had started (interrupted)') }]);
    }
    this.#entries.push({ resource, close });
  }

  /** Closes everything, newest first; idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= this.#closeAll());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #closeAll(): Promise<void> {
    const failures: { resource: string; error: unknown }[] = [];
    for (const entry of this.#entries.toReversed()) {
      try {
        await entry.close();
      } catch (error) {
        failures.push({ resource: entry.resource, error });
      }
    }
    this.#entries.length = 0;
    if (failures.length > 0) throw new TeardownError(failures);
  }
}
