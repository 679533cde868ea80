/**
 * The three ways to Postgres, in one run against the Kubernetes API simulator: direct (the
 * server itself), NodePort (the simulated node's port, relayed by its kube-proxy: what Kind's
 * extraPortMappings give a suite) and port-forward (client-node PortForward, one WebSocket per
 * connection). For each: query round trip (median, p99), the time to open a new connection
 * (TCP [+ WebSocket upgrade] + Postgres login + `select 1`), and COPY TO STDOUT throughput.
 *
 * Run: `node bench/transport.ts [queries] [copyMiB] [connects]` (Node 24).
 */
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { startKubeSimulator } from '../fixtures/k8s-simulator/index.ts';
import { prepareDatabase, type PreparedDatabase } from '../src/api/prepare-database.ts';
import type { ConnectionInfo } from '../src/postgres/connection-string.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';

const queries = Number(process.argv[2] ?? 2000);
const copyMiB = Number(process.argv[3] ?? 64);
const connects = Number(process.argv[4] ?? 50);

async function roundTrips(connection: ConnectionInfo): Promise<number[]> {
  const client = new pg.Client(connection);
  await client.connect();
  for (let i = 0; i < 50; i++) await client.query('select 1'); // warm up
  const samples: number[] = [];
  for (let i = 0; i < queries; i++) {
    const started = performance.now();
    await client.query('select 1');
    samples.push(performance.now() - started);
  }
  await client.end();
  return samples;
}

async function connectTimes(connection: ConnectionInfo): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < connects; i++) {
    const started = performance.now();
    const client = new pg.Client(connection);
    await client.connect();
    await client.query('select 1');
    samples.push(performance.now() - started);
    await client.end();
  }
  return samples;
}

/** MiB/s of a COPY TO STDOUT of ~copyMiB of 1000-byte rows. */
async function copyThroughput(connection: ConnectionInfo): Promise<number> {
  const client = new pg.Client(connection);
  await client.connect();
  let bytes = 0;
  const rows = Math.ceil((copyMiB * 1024 * 1024) / 1001);
  const started = performance.now();
  await pipeline(
    client.query(copyTo(`COPY (SELECT repeat('x', 1000) FROM generate_series(1, ${rows})) TO STDOUT`)),
    new Writable({ write: (chunk: Buffer, _encoding, done) => ((bytes += chunk.length), done()) }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return bytes / 1024 / 1024 / seconds;
}

const percentile = (xs: readonly number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const server = await startEmbeddedTarget({ user: 'slm_user', password: 'test_password', database: 'action_history' });
const sim = await startKubeSimulator({ postgres: { upstream: { host: '127.0.0.1', port: server.connection.port }, nodePort: true } });
const opened: PreparedDatabase[] = [];
try {
  const kind = { kubeconfig: sim.kubeconfigPath, namespace: 'kubernaut-system', secret: 'postgresql-secret', tables: ['audit_events'], logger: false as const };
  const nodePort = await prepareDatabase({ ...kind, transport: 'nodeport' });
  opened.push(nodePort);
  const forward = await prepareDatabase({ ...kind, transport: 'port-forward' });
  opened.push(forward);

  const ways: [string, ConnectionInfo][] = [
    ['direct', server.connection],
    [`NodePort ${nodePort.transport?.address}`, nodePort.connection],
    ['port-forward', forward.connection],
  ];
  const results = [];
  for (const [name, connection] of ways) {
    const trips = await roundTrips(connection);
    const opens = await connectTimes(connection);
    const copy = await copyThroughput(connection);
    results.push({ name, median: percentile(trips, 50), p99: percentile(trips, 99), connect: percentile(opens, 50), copy });
  }
  const websockets = sim.counters().webSockets.opened;

  console.log(`Postgres 16 embedded; Kubernetes API simulator; ${queries} round trips of select 1, ${connects} new connections, ${copyMiB} MiB COPY TO STDOUT`);
  const header = ['transport', 'round trip p50', 'round trip p99', 'new connection p50', 'COPY MiB/s'];
  const rows = results.map((r) => [r.name, `${r.median.toFixed(3)} ms`, `${r.p99.toFixed(3)} ms`, `${r.connect.toFixed(2)} ms`, r.copy.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(format(row));
  console.log(`WebSockets opened: ${websockets} (all by the port-forward; the NodePort opens none)`);
} finally {
  for (const prepared of opened.reverse()) await prepared.close();
  await sim.close();
  await server.close();
}
