import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeBin extends AsyncDisposable {
  /** The folder to put first on PATH. */
  readonly dir: string;
}

/**
 * A stand-in for `docker` on PATH. `docker port <container> <nodePort>/tcp` prints `output`
 * (as Docker prints a published port: `0.0.0.0:25433` and `[::]:25433`) when the container and
 * port are the ones expected; otherwise it fails the way Docker does.
 */
export async function fakeDocker(expected: { container: string; nodePort: number }, output: string): Promise<FakeBin> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-docker-'));
  const script = `#!/bin/sh
if [ "$1" = "port" ] && [ "$2" = "${expected.container}" ] && [ "$3" = "${expected.nodePort}/tcp" ]; then
  printf '%s\\n' ${output.split('\n').map((line) => `'${line}'`).join(' ')}
  exit 0
fi
if [ "$1" = "port" ] && [ "$2" != "${expected.container}" ]; then echo "Error response from daemon: No such container: $2" >&2; exit 1; fi
echo "Error: No public port '$3' published for $2" >&2
exit 1
`;
  await writeFile(join(dir, 'docker'), script);
  await chmod(join(dir, 'docker'), 0o755);
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** An empty folder: PATH with only it has no docker, podman or kind. */
export async function emptyBin(): Promise<FakeBin> {
  const dir = await mkdtemp(join(tmpdir(), 'no-docker-'));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export interface Relay extends AsyncDisposable {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
}

/**
 * What Kind's extraPortMappings does on the host: a port on 127.0.0.1 relaying every
 * connection to the node's port (here the simulator's NodePort listener).
 */
export async function hostPortMapping(target: { host: string; port: number }): Promise<Relay> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    const upstream = connect(target);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
    socket.once('close', () => upstream.destroy());
    upstream.once('close', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    [Symbol.asyncDispose]: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
