import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, inject, test } from 'vitest';
import { probePostgres } from '../../../src/target/kind/probe-postgres.ts';
import { closedPort } from './fake-docker.ts';

/** A TCP server on 127.0.0.1 that does `onConnection` with each client. */
async function server(onConnection: (socket: Socket) => void): Promise<{ port: number; accepted: () => number } & AsyncDisposable> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const s: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as { port: number }).port,
    accepted: () => accepted,
    [Symbol.asyncDispose]: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

describe('probePostgres: an SSLRequest and one byte back, within the deadline', () => {
  test('the suite’s Postgres answers', async () => {
    const { host, port } = inject('pgAdmin');
    expect(await probePostgres({ host, port })).toEqual({ ok: true, ms: expect.any(Number) });
  });

  test('nothing listening: connection refused', async () => {
    expect(await probePostgres({ host: '127.0.0.1', port: await closedPort() })).toEqual({ ok: false, reason: 'connection refused' });
  });

  test('accepted but never answered: gives up at the deadline, and closes its connection', async () => {
    let onClose = () => {};
    const closed = new Promise<void>((resolve) => (onClose = resolve));
    await using silent = await server((socket) => socket.resume().once('end', () => onClose()));
    expect(await probePostgres({ host: '127.0.0.1', port: silent.port }, { timeoutMs: 200 })).toEqual({ ok: false, reason: 'no answer within 200 ms' });
    expect(silent.accepted()).toBe(1);
    await closed; // the probe's side ended: nothing is left open behind it
  });

  test('something else answering is not taken for Postgres', async () => {
    await using http = await server((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const result = await probePostgres({ host: '127.0.0.1', port: http.port });
    expect(result).toEqual({ ok: false, reason: `something answered at 127.0.0.1:${http.port}, but not as Postgres does ("HTTP/1.1 400 Bad")` });
  });

  test('closed without a byte, and reset, are told apart', async () => {
    await using closing = await server((socket) => socket.once('data', () => socket.end()));
    expect(await probePostgres({ host: '127.0.0.1', port: closing.port })).toEqual({ ok: false, reason: 'the connection was closed without an answer' });
    await using resetting = await server((socket) => socket.once('data', () => socket.resetAndDestroy()));
    expect(await probePostgres({ host: '127.0.0.1', port: resetting.port })).toEqual({ ok: false, reason: 'connection reset' });
  });

  test('an aborted probe ends at once', async () => {
    await using silent = await server(() => {});
    const abort = new AbortController();
    const probing = probePostgres({ host: '127.0.0.1', port: silent.port }, { timeoutMs: 60_000, signal: abort.signal });
    abort.abort();
    expect(await probing).toEqual({ ok: false, reason: 'aborted' });
  });
});
