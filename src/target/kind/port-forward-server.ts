import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import type WebSocket from 'isomorphic-ws';
import type { ReadyPod } from './wait-for-ready-pod.ts';
import { PortForwardError } from '../../errors/errors.ts';
import { once } from '../../util/once.ts';
import { explainRejection } from './explain-rejection.ts';

export interface PortForwardOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  /** The port in the pod. */
  readonly remotePort: number;
  /** Finds the pod to forward to; asked again when the pod it gave stops answering. */
  readonly resolvePod: () => Promise<ReadyPod>;
  /** Told about per-connection failures (error-channel text, retries), which tests must see. */
  readonly onEvent?: (message: string) => void;
}

export interface PortForwardStats {
  /** Local connections accepted. */
  readonly accepted: number;
  /** Local connections open now. */
  readonly open: number;
  /** Connections that failed to forward or broke. */
  readonly failed: number;
  readonly lastError?: string;
}

/** A listening forward: `127.0.0.1:port` reaches the pod's `remotePort`. */
export interface PortForwardHandle extends AsyncDisposable {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The pod new connections go to, once known. */
  readonly pod: string | undefined;
  readonly stats: PortForwardStats;
  /** Opens and closes one tunnel, so a forbidden or broken forward fails now, not in a query. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

interface Tunnel {
  readonly socket: Socket;
  ws?: WebSocket;
}

/**
 * Listens on 127.0.0.1 (never all interfaces) and forwards each TCP connection through its
 * own WebSocket from client-node's `PortForward`. This layer closes client-node's gaps:
 * a closing or failing WebSocket ends the local socket (no silent hang); error-channel text
 * becomes an error the user sees; a refused upgrade is explained and never becomes an
 * unhandled rejection; a vanished pod is re-resolved for the next connection.
 */
export async function startPortForward(options: PortForwardOptions): Promise<PortForwardHandle> {
  const { kc, namespace, remotePort } = options;
  const forward = new PortForward(kc, true);
  const tunnels = new Set<Tunnel>();
  let closed = false;
  let podPromise: Promise<ReadyPod> | undefined;
  let podName: string | undefined;
  let accepted = 0;
  let failed = 0;
  let lastError: string | undefined;

  const currentPod = (): Promise<ReadyPod> => {
    podPromise ??= options.resolvePod().then(
      (pod) => ((podName = pod.name), pod),
      (error: unknown) => {
        podPromise = undefined;
        throw error;
      },
    );
    return podPromise;
  };
  const forget = (pod: string): void => {
    if (podName === pod) podPromise = undefined;
  };
  const report = (message: string): void => {
    failed += 1;
    lastError = message;
    options.onEvent?.(message);
  };

  /** One WebSocket for one local socket; resolves once it is open. */
  const open = async (tunnel: Tunnel, pod: ReadyPod): Promise<WebSocket> => {
    const { socket } = tunnel;
    const errors = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString('utf8').trim();
        if (text) {
          report(`port-forward to pod ${namespace}/${pod.name}:${remotePort} failed: ${text}`);
          forget(pod.name);
          socket.destroy(new PortForwardError(text, { namespace, pod: pod.name, port: remotePort }));
        }
        done();
      },
    });
    const ws = (await forward.portForward(namespace, pod.name, [remotePort], socket, errors, socket)) as WebSocket;
    tunnel.ws = ws;
    ws.on('error', (error: Error) => {
      report(`port-forward to pod ${namespace}/${pod.name} broke: ${error.message}`);
      forget(pod.name);
      socket.destroy();
    });
    ws.on('close', (code: number) => {
      // 1000/1005 are orderly closes; anything else means the pod or the tunnel went away.
      if (code !== 1000 && code !== 1005 && !socket.destroyed) {
        report(`port-forward to pod ${namespace}/${pod.name} closed (WebSocket code ${code})`);
        forget(pod.name);
      }
      socket.end();
      // If the client does not finish its side, do not keep the socket forever.
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
    // The socket may have closed while the WebSocket was opening; then nothing will end it.
    if (socket.destroyed || socket.readableEnded) ws.close();
    return ws;
  };

  const rejection = async (pod: ReadyPod, error: unknown): Promise<PortForwardError> => {
    const message = (error as Error).message ?? String(error);
    const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
    const explained = status ? await explainRejection(kc, `/api/v1/namespaces/${namespace}/pods/${pod.name}/portforward?ports=${remotePort}`) : undefined;
    const hint = status === '403' ? ' (the kubeconfig user needs the "create" verb on pods/portforward)' : '';
    return new PortForwardError(
      `port-forward to pod ${namespace}/${pod.name}:${remotePort} was refused${status ? ` with HTTP ${status}` : ''}: ${explained ?? message}${hint}`,
      { namespace, pod: pod.name, port: remotePort },
      { cause: error },
    );
  };

  /** Opens a tunnel, re-resolving the pod once if the one we had stopped answering. */
  const connect = async (tunnel: Tunnel): Promise<void> => {
    let pod = await currentPod();
    try {
      await open(tunnel, pod);
    } catch (first) {
      if (/Unexpected server response: 40[13]/.test(String((first as Error).message))) throw await rejection(pod, first);
      forget(pod.name);
      pod = await currentPod();
      try {
        await open(tunnel, pod);
      } catch (second) {
        throw await rejection(pod, second);
      }
    }
  };

  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    accepted += 1;
    const tunnel: Tunnel = { socket };
    tunnels.add(tunnel);
    socket.on('error', () => {}); // a reset from either side is reported through the tunnel
    socket.on('close', () => {
      tunnels.delete(tunnel);
      tunnel.ws?.close();
    });
    if (closed) return void socket.destroy();
    connect(tunnel).then(
      () => socket.resume(),
      (error: unknown) => {
        report((error as Error).message);
        socket.destroy();
      },
    );
  });
  server.on('error', (error) => report(`port-forward listener failed: ${error.message}`));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const close = once(async () => {
    closed = true;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const tunnel of tunnels) {
      tunnel.socket.destroy();
      tunnel.ws?.terminate();
    }
    tunnels.clear();
    await done;
  });

  return {
    host: '127.0.0.1',
    port,
    get pod() {
      return podName;
    },
    get stats() {
      return Object.freeze({ accepted, open: tunnels.size, failed, ...(lastError ? { lastError } : {}) });
    },
    async probe() {
      const pod = await currentPod();
      let ws: WebSocket;
      try {
        const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
        ws = (await forward.portForward(namespace, pod.name, [remotePort], sink, sink, new PassThrough())) as WebSocket;
      } catch (error) {
        throw await rejection(pod, error);
      }
      ws.on('error', () => {});
      ws.close();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
