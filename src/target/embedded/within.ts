import { setTimeout as delay } from 'node:timers/promises';

/**
 * `promise`'s value, or undefined if `timeoutMs` passes first; rejects with the signal's
 * reason if `signal` aborts first. The timer is cleared either way, so that nothing lingers.
 */
export async function within<T>(promise: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
  const done = new AbortController();
  const timer = delay(timeoutMs, undefined, { signal: signal ? AbortSignal.any([signal, done.signal]) : done.signal });
  try {
    return await Promise.race([promise, timer]);
  } finally {
    done.abort();
    // After the race, the timer's rejection (its abort) is expected and unwanted.
    timer.catch(() => undefined);
  }
}
