import { constants } from 'node:os';

/*
 * Teardown on SIGINT/SIGTERM. Neither runner runs global teardown when it is signalled:
 * Vitest's logger answers SIGINT/SIGTERM with `process.exit()` one millisecond later, and Jest
 * exits as well. So on the first signal every registered
 * teardown is started, and `process.exit` is held (calls are ignored) until they have finished
 * or TIMEOUT_MS has passed; then the process exits with 128 + the signal number. A second
 * signal exits at once.
 *
 * The state lives on globalThis: each Vitest project loads the global setup as its own
 * module instance, and there must be one handler, one hold on `process.exit`, for all.
 */

const TIMEOUT_MS = 15_000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

interface InterruptState {
  readonly teardowns: Set<() => Promise<void>>;
  interrupted: boolean;
  listener?: (signal: Signal) => void;
}

const KEY = Symbol.for('e2e-migrations.interrupt');

function state(): InterruptState {
  const holder = globalThis as { [KEY]?: InterruptState };
  return (holder[KEY] ??= { teardowns: new Set(), interrupted: false });
}

/**
 * Runs `teardown` if the process is interrupted before the returned disarm function is
 * called. `teardown` must be idempotent (the normal teardown may be running too).
 */
export function teardownOnInterrupt(teardown: () => Promise<void>, onInterrupt?: (signal: Signal) => void): () => void {
  const s = state();
  s.teardowns.add(teardown);
  if (!s.listener) {
    s.listener = (signal) => interrupt(s, signal, onInterrupt);
    for (const signal of SIGNALS) process.on(signal, s.listener);
  }
  return () => {
    s.teardowns.delete(teardown);
    if (s.teardowns.size === 0 && s.listener && !s.interrupted) {
      for (const signal of SIGNALS) process.off(signal, s.listener);
      s.listener = undefined;
    }
  };
}

function interrupt(s: InterruptState, signal: Signal, onInterrupt?: (signal: Signal) => void): void {
  const realExit = process.exit;
  if (s.interrupted) return; // the second signal: the held exit below is released by finish()
  s.interrupted = true;
  let finished = false;
  const finish = (code?: number): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    process.exit = realExit;
    // The run was interrupted, whatever the runner concluded meanwhile (tests that failed because
    // the server went away): the shell's convention, 128 + the signal, is what CI acts on.
    realExit.call(process, code ?? 128 + constants.signals[signal]);
  };
  process.exit = (() => undefined) as typeof process.exit;
  for (const again of SIGNALS) process.once(again, () => finish(128 + constants.signals[again]));
  const timer = setTimeout(finish, TIMEOUT_MS);
  onInterrupt?.(signal);
  void Promise.allSettled([...s.teardowns].map((teardown) => teardown())).then(() => finish());
}
