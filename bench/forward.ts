/**
 * Issue 3 figures: the forward through the Kubernetes API simulator (client-node PortForward,
 * one WebSocket per connection) against direct connections to the same Postgres:
 * round-trip latency of a trivial query, throughput of a large COPY, and the time to open a
 * new connection (TCP + WebSocket upgrade + Postgres login).
 * Run: `node bench/forward.ts [queries] [copyMiB]` (Node 24 via `npm run bench:forward`).
 */
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { startKubeSimulator } from '../fixtures/k8s-simulator/index.ts';
import { prepareDatabase } from '../src/api/prepare-database.ts';
import { startEmbeddedTarget } from '../src/target/embedded/embedded-target.ts';
import type { ConnectionInfo } from '../src/postgres/connection-string.ts';

const queries = Number(process.argv[2] ?? 2000);
const copyMiB = Number(process.argv[3] ?? 64);
const connects = 50;

const server = await startEmbeddedTarget({ user: 'slm_user', password: 'test_password', database: 'action_history' });
const sim = await startKubeSimulator({ postgres: { upstream: { host: '127.0.0.1', port: server.connection.port } } });
const prepared = await prepareDatabase({ kubeconfig: sim.kubeconfigPath, namespace: 'kubernaut-system', secret: 'postgresql-secret', tables: ['audit_events'], logger: false });

async function latency(connection: ConnectionInfo): Promise<number[]> {
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

async function copyThroughput(connection: ConnectionInfo): Promise<number> {
  const client = new pg.Client(connection);
  await client.connect();
  let bytes = 0;
  const rows = Math.ceil((copyMiB * 1024 * 1024) / 1001);
  const started = performance.now();
  await pipeline(
    client.query(copyTo(`COPY (SELECT repeat('x', 1000) FROM generate_series(1, ${rows})) TO STDOUT`)),
    new Writable({ write: (chunk: Buffer, _e, done) => ((bytes += chunk.length), done()) }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return bytes / 1024 / 1024 / seconds;
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

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const direct = server.connection;
const forwarded = prepared.connection;
try {
  const [dLat, fLat] = [await latency(direct), await latency(forwarded)];
  const [dCopy, fCopy] = [await copyThroughput(direct), await copyThroughput(forwarded)];
  const [dConn, fConn] = [await connectTimes(direct), await connectTimes(forwarded)];
  const row = (name: string, d: number, f: number, unit: string, digits = 3) =>
    console.log(`${name.padEnd(34)} ${`${d.toFixed(digits)} ${unit}`.padStart(14)} ${`${f.toFixed(digits)} ${unit}`.padStart(14)} ${(f / d).toFixed(2).padStart(8)}x`);
  console.log(`Postgres 16 embedded; forward = client-node PortForward via the simulator (one WebSocket per connection); ${queries} queries, ${copyMiB} MiB COPY, ${connects} connects`);
  console.log(`${'measure'.padEnd(34)} ${'direct'.padStart(14)} ${'forwarded'.padStart(14)} ${'ratio'.padStart(9)}`);
  row('select 1 round trip, median', pct(dLat, 50), pct(fLat, 50), 'ms');
  row('select 1 round trip, p99', pct(dLat, 99), pct(fLat, 99), 'ms');
  row('COPY TO STDOUT throughput', dCopy, fCopy, 'MiB/s', 1);
  row('new connection (login + select 1), median', pct(dConn, 50), pct(fConn, 50), 'ms', 2);
} finally {
  await prepared.close();
  await sim.close();
  await server.close();
}
