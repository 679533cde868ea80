import { connect } from 'node:net';
import { formatHostPort, type HostPort } from '../../config/host-port.ts';

/** How long a probe waits for Postgres's answer, connect included. */
export const PROBE_TIMEOUT_MS = 1_000;

export interface ProbeOptions {
  /** @default PROBE_TIMEOUT_MS */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type ProbeResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

/** Postgres's SSLRequest: length 8 and the code 80877103. Any Postgres answers one byte, `S` or `N`. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * Whether a Postgres answers at `address`: connects, sends an SSLRequest and waits for its
 * one-byte answer (`S` or `N`), all within `timeoutMs`. Never rejects and never outlives the
 * deadline; the connection is closed before it resolves. Sends no credentials and starts no
 * session, so nothing is logged as a failed login.
 *
 * @example
 * await probePostgres({ host: '127.0.0.1', port: 25433 });
 * // { ok: false, reason: 'connection refused' }
 */
export function probePostgres(address: HostPort, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const finish = (result: ProbeResult) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(Object.freeze(result));
    };
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (chunk: Buffer) => {
      const answer = chunk.subarray(0, 1).toString('latin1');
      if (answer === 'S' || answer === 'N') return finish({ ok: true, ms: Math.round(performance.now() - started) });
      finish({ ok: false, reason: `something answered at ${formatHostPort(address)}, but not as Postgres does (${JSON.stringify(chunk.subarray(0, 16).toString('latin1'))})` });
    });
    socket.once('end', () => finish({ ok: false, reason: 'the connection was closed without an answer' }));
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ ok: false, reason: socketFailure(error) }));
  });
}

function socketFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'EADDRNOTAVAIL':
      return 'address not available on this machine';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'cannot resolve the host';
    default:
      return error.message;
  }
}
