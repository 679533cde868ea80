import { delimiter } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { applyMigrations, ClusterError, prepareDatabase } from '../../../src/index.ts';
import { collector } from '../../support/log-sink.ts';
import { closedPort, emptyBin, fakeDocker, hostPortMapping } from './fake-docker.ts';
import { kindCluster, query } from './kind-cluster.ts';

// zx finds its shell when first imported: import it while PATH still has one, as a user's would.
await import('zx');

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

const nodePortOf = (cluster: Awaited<ReturnType<typeof kindCluster>>) => cluster.sim.nodePorts()[0]!.nodePort;

describe('transport: NodePort first, port-forward as the fallback', () => {
  test('a NodePort Service is used with no port-forward session opened', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    await using bin = await emptyBin();
    process.env.PATH = bin.dir; // no docker: the container-port lookup is skipped, not failed
    const log = collector();
    await using prepared = await prepareDatabase({ ...cluster.options, tables: ['audit_events'], logger: log });
    const nodePort = nodePortOf(cluster);

    expect(prepared.transport).toMatchObject({ transport: 'nodeport', mode: 'auto', address: `127.0.0.1:${nodePort}` });
    expect(prepared.transport?.attempts.map((a) => [a.source, a.outcome, a.reason])).toEqual([
      ['nodeAddress', 'skipped', 'not set'],
      ['container-port', 'skipped', 'neither docker nor podman is on PATH'],
      ['node-ip', 'answered', expect.stringMatching(/^Postgres answered in \d+ ms$/)],
    ]);
    expect(prepared.connection).toMatchObject({ host: '127.0.0.1', port: nodePort });
    expect(await query(prepared.connection, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    expect(log.text()).toMatch(
      new RegExp(`forward\\s+ok .*nodeport 127\\.0\\.0\\.1:${nodePort} → service kubernaut-system/postgresql \\(node e2e-control-plane InternalIP 127\\.0\\.0\\.1:${nodePort} answered as Postgres; nodeAddress: skipped, not set; .*neither docker nor podman is on PATH\\); no port-forward`),
    );
    // Every byte went through the NodePort: not one WebSocket, not one port-forward request.
    const counters = cluster.sim.counters();
    expect(counters.webSockets.opened).toBe(0);
    expect(Object.keys(counters.requests).filter((path) => path.endsWith('/portforward'))).toEqual([]);
    expect(counters.nodePortConnections.opened).toBeGreaterThan(0);
  });

  test('the host port Docker maps to the NodePort (Kind extraPortMappings) is tried before the node IP', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    const nodePort = nodePortOf(cluster);
    await using mapping = await hostPortMapping({ host: '127.0.0.1', port: nodePort });
    await using docker = await fakeDocker({ container: 'e2e-control-plane', nodePort }, `0.0.0.0:${mapping.port}\n[::]:${mapping.port}`);
    process.env.PATH = `${docker.dir}${delimiter}${savedPath}`;
    // The cluster name comes from the kind-e2e context.
    const result = await applyMigrations({ ...cluster.options, tables: ['audit_events'], logger: false });
    expect(result.transport).toMatchObject({ transport: 'nodeport', address: `127.0.0.1:${mapping.port}` });
    expect(result.transport?.attempts[1]).toMatchObject({
      source: 'container-port',
      label: `docker port e2e-control-plane ${nodePort}/tcp → 127.0.0.1:${mapping.port}`,
      outcome: 'answered',
    });
    expect(result.transport?.attempts).toHaveLength(2); // the node IP was not needed
    expect(mapping.accepted).toBeGreaterThan(0);
    expect(cluster.sim.counters().webSockets.opened).toBe(0);
  });

  test('nodeAddress is tried first', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    await using mapping = await hostPortMapping({ host: '127.0.0.1', port: nodePortOf(cluster) });
    const result = await applyMigrations({ ...cluster.options, nodeAddress: `127.0.0.1:${mapping.port}`, tables: ['audit_events'], logger: false });
    expect(result.transport).toMatchObject({ transport: 'nodeport', address: `127.0.0.1:${mapping.port}`, reason: `nodeAddress 127.0.0.1:${mapping.port} answered as Postgres` });
    expect(result.transport?.attempts).toHaveLength(1);
  });

  test('forcing port-forward still forwards, and never probes the NodePort', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    const log = collector();
    const result = await applyMigrations({ ...cluster.options, transport: 'port-forward', tables: ['audit_events'], logger: log });
    expect(result.transport).toMatchObject({ transport: 'port-forward', mode: 'port-forward', reason: 'transport "port-forward" is configured', attempts: [] });
    expect(result.transport?.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(log.text()).toMatch(/forward\s+ok .*127\.0\.0\.1:\d+ → kubernaut-system\/postgresql-\S+:5432 via port-forward \(transport "port-forward" is configured\)/);
    const counters = cluster.sim.counters();
    expect(counters.webSockets.opened).toBeGreaterThan(0);
    expect(counters.nodePortConnections.opened).toBe(0);
  });

  test('a ClusterIP Service: auto forwards and says why; nodeport fails saying why', async () => {
    await using cluster = await kindCluster();
    const result = await applyMigrations({ ...cluster.options, tables: ['audit_events'], logger: false });
    expect(result.transport).toMatchObject({ transport: 'port-forward', mode: 'auto', reason: 'service kubernaut-system/postgresql has no nodePort (type ClusterIP)', attempts: [] });

    const error = await applyMigrations({ ...cluster.options, transport: 'nodeport', logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).stage).toBe('forward');
    expect((error as Error).message).toMatch(/^transport "nodeport": service kubernaut-system\/postgresql has no nodePort \(type ClusterIP\); make the Service type NodePort/);
  });

  test('a NodePort that does not answer within the probe is skipped with its reason; the run forwards', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    await using bin = await emptyBin();
    process.env.PATH = bin.dir;
    cluster.sim.faults.stallNodePort();
    const nodePort = nodePortOf(cluster);
    const log = collector();
    const result = await applyMigrations({ ...cluster.options, tables: ['audit_events'], logger: log });
    expect(result.transport).toMatchObject({ transport: 'port-forward', mode: 'auto' });
    expect(result.transport?.attempts[2]).toEqual({
      source: 'node-ip',
      label: `node e2e-control-plane InternalIP 127.0.0.1:${nodePort}`,
      address: `127.0.0.1:${nodePort}`,
      outcome: 'failed',
      reason: 'no answer within 1000 ms',
    });
    expect(result.transport?.reason).toBe(
      `no address of NodePort ${nodePort} of service kubernaut-system/postgresql answered as Postgres (nodeAddress: skipped, not set; e2e-control-plane port ${nodePort}/tcp: skipped, neither docker nor podman is on PATH; node e2e-control-plane InternalIP 127.0.0.1:${nodePort}: no answer within 1000 ms)`,
    );
    expect(log.text()).toContain(`forward  waiting for a Postgres answer at node e2e-control-plane InternalIP 127.0.0.1:${nodePort}`);
    expect(log.text()).toMatch(/forward\s+ok .* via port-forward \(no address of NodePort \d+ .*no answer within 1000 ms\)/);
    const counters = cluster.sim.counters();
    expect(counters.nodePortConnections.opened).toBe(1); // the probe, and nothing after it
    expect(counters.webSockets.opened).toBeGreaterThan(0);
  });

  test('nodeport with nothing answering fails, listing what was tried and why each failed', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    const nodePort = nodePortOf(cluster);
    await using docker = await fakeDocker({ container: 'other-control-plane', nodePort }, '');
    process.env.PATH = `${docker.dir}${delimiter}${savedPath}`;
    cluster.sim.faults.stallNodePort();
    const refusedPort = await closedPort();
    const error = await applyMigrations({ ...cluster.options, transport: 'nodeport', nodeAddress: `127.0.0.1:${refusedPort}`, logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).stage).toBe('forward');
    expect((error as Error).message).toBe(
      `transport "nodeport": no address of NodePort ${nodePort} of service kubernaut-system/postgresql answered as Postgres: ` +
        `nodeAddress 127.0.0.1:${refusedPort}: connection refused; ` +
        `docker port e2e-control-plane ${nodePort}/tcp: Error response from daemon: No such container: e2e-control-plane; ` +
        `node e2e-control-plane InternalIP 127.0.0.1:${nodePort}: no answer within 1000 ms; ` +
        'map the nodePort to a host port (Kind extraPortMappings) and give it as nodeAddress, or use transport "auto"',
    );
    expect((error as ClusterError).details).toMatchObject({ namespace: 'kubernaut-system', service: 'postgresql', context: 'kind-e2e' });
    // Failing on the NodePort never opened a port-forward.
    expect(cluster.sim.counters().webSockets.opened).toBe(0);
  });

  test('a NodePort whose pods are gone resets the connection: the probe says so', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    await using bin = await emptyBin();
    process.env.PATH = bin.dir;
    cluster.sim.faults.resetNodePort();
    const error = await applyMigrations({ ...cluster.options, transport: 'nodeport', logger: false }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`node e2e-control-plane InternalIP 127.0.0.1:${nodePortOf(cluster)}: connection reset`);
  });
});
