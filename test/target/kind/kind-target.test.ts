import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { applyMigrations, ClusterError, PortForwardError, prepareDatabase, verifyMigrations } from '../../../src/index.ts';
import { collector, refused } from '../../support/log-sink.ts';
import { kindCluster, query } from './kind-cluster.ts';

describe('Kind target through the Kubernetes API simulator', () => {
  test('applies and verifies through the port-forward, with per-stage progress and no password printed', async () => {
    await using cluster = await kindCluster();
    const log = collector();
    const result = await applyMigrations({ ...cluster.options, tables: ['audit_events'], logger: log });
    expect(result.applied).toEqual(['0010_audit_events']);
    expect(result.stages.map((s) => s.stage)).toEqual(['cluster', 'forward', 'migrate', 'verify', 'teardown']);
    expect(log.text()).toMatch(/cluster\s+ok .*context kind-e2e .*service kubernaut-system\/postgresql → pod postgresql-/);
    expect(log.text()).toMatch(/forward\s+ok .*127\.0\.0\.1:\d+ → kubernaut-system\/postgresql-/);
    expect(log.text()).not.toContain(cluster.db.connection.password);
    await expect(verifyMigrations({ ...cluster.options, tables: ['audit_events'], logger: false })).resolves.toBeUndefined();
    // Everything opened was closed: no WebSocket, no relayed socket left.
    await cluster.sim.waitFor((c) => c.webSockets.open === 0 && c.upstreamSockets.open === 0, { description: 'forwards closed' });
  });

  test('a pool of 20 runs queries at once, each connection through its own WebSocket', async () => {
    await using cluster = await kindCluster();
    await using prepared = await prepareDatabase({ ...cluster.options, tables: ['notification_audit'], logger: false });
    const pool = new pg.Pool({ ...prepared.connection, max: 20 });
    pool.on('error', () => {});
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => pool.query<{ n: number }>('select $1::int as n, pg_sleep(0.2)', [i])),
      );
      expect(results.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(cluster.sim.counters().webSockets.open).toBeGreaterThanOrEqual(20);
    } finally {
      await pool.end();
    }
  });

  test('waits for the pod to become Ready, saying what it waits for', async () => {
    await using cluster = await kindCluster({ ready: false });
    cluster.sim.faults.podNotReadyFor(3_000);
    const log = collector();
    await applyMigrations({ ...cluster.options, tables: ['audit_events'], logger: log });
    // It looked again until the pod was Ready: more than one list of the Service's pods.
    expect(cluster.sim.counters().requests['/api/v1/namespaces/kubernaut-system/pods']).toBeGreaterThan(1);
    expect(log.text()).toMatch(/cluster\s+waiting for a Ready pod of service kubernaut-system\/postgresql \(postgresql-\S+: Running, Ready=False\)/);
  });

  test('gives up at the deadline naming namespace/service and the pods’ states', async () => {
    await using cluster = await kindCluster({ ready: false });
    const error = await applyMigrations({ ...cluster.options, readyTimeoutMs: 800, logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toMatch(
      /^no Ready pod for service kubernaut-system\/postgresql after 800 ms \(selector app=postgresql; pods: postgresql-\S+: Running, Ready=False\)$/,
    );
    expect((error as ClusterError).details).toMatchObject({ namespace: 'kubernaut-system', service: 'postgresql', timeoutMs: 800 });
    expect((error as ClusterError).stage).toBe('cluster');
  });

  test('a missing Service is named, with the Services that do exist', async () => {
    await using cluster = await kindCluster();
    cluster.sim.faults.deleteService();
    const error = await applyMigrations({ ...cluster.options, logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toBe('service kubernaut-system/postgresql not found (services in kubernaut-system: none)');
  });

  test('a forbidden port-forward fails the forward stage with the API server’s reason', async () => {
    await using cluster = await kindCluster();
    cluster.sim.faults.forbidPortForward();
    const error = await applyMigrations({ ...cluster.options, logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortForwardError);
    expect((error as PortForwardError).stage).toBe('forward');
    expect((error as Error).message).toMatch(/port-forward to pod kubernaut-system\/postgresql-\S+:5432 was refused with HTTP 403: pods "postgresql-\S+" is forbidden: User "kind-e2e" cannot create resource "pods\/portforward"/);
    await cluster.sim.waitFor((c) => c.webSockets.open === 0);
  });

  test('a tunnel dropped mid-query fails that query clearly; the next connection works', async () => {
    await using cluster = await kindCluster();
    await using prepared = await prepareDatabase({ ...cluster.options, tables: ['audit_events'], logger: false });
    const client = new pg.Client(prepared.connection);
    const clientErrors: Error[] = [];
    client.on('error', (error) => clientErrors.push(error));
    // Armed for the next tunnel: enough for the login, not for the megabyte the query returns.
    cluster.sim.faults.dropConnectionAfterBytes(10_000);
    await client.connect();
    const failure = await client.query("select repeat('x', 1000000) as big").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/Connection terminated unexpectedly|connection/i);
    await client.end().catch(() => {});
    const rows = await query<{ ok: number }>(prepared.connection, 'select 1 as ok');
    expect(rows).toEqual([{ ok: 1 }]);
  });

  test('after the pod is replaced, new connections reach the new Ready pod', async () => {
    await using cluster = await kindCluster();
    await using prepared = await prepareDatabase({ ...cluster.options, tables: ['audit_events'], logger: false });
    expect(await query(prepared.connection, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    const { deleted, created } = cluster.sim.faults.replacePod({ readyAfterMs: 500 });
    expect(await query(prepared.connection, 'select 2 as ok')).toEqual([{ ok: 2 }]);
    const podsUsed = Object.keys(cluster.sim.counters().requests).filter((path) => path.endsWith('/portforward'));
    expect(podsUsed.some((path) => path.includes(created))).toBe(true);
    expect(deleted).not.toBe(created);
  });

  test('credentials: Secret values override the defaults, explicit values override the Secret', async () => {
    await using cluster = await kindCluster();
    // The Secret holds the real credentials: with it, the run works.
    await expect(applyMigrations({ ...cluster.options, tables: ['audit_events'], logger: false })).resolves.toBeDefined();
    // An explicit password beats the Secret's (and is wrong here), so the login is refused.
    const error = await applyMigrations({ ...cluster.options, password: 'explicit-wrong', logger: false }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('login refused for user');
    expect((error as Error).message).not.toContain('explicit-wrong');
    // Without the Secret the defaults (slm_user) are used, which this Postgres does not know.
    const { secret: _secret, ...noSecret } = cluster.options;
    const defaults = await applyMigrations({ ...noSecret, logger: false }).catch((e: unknown) => e);
    expect((defaults as Error).message).toMatch(/user "slm_user"/);
  });

  test('a wrong context is named with the contexts that exist', async () => {
    await using cluster = await kindCluster();
    const error = await applyMigrations({ ...cluster.options, context: 'kind-other', logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toBe(`context "kind-other" is not in the kubeconfig ${cluster.options.kubeconfig} (contexts: kind-e2e)`);
  });

  test('an unreadable kubeconfig is named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
    try {
      const missing = join(dir, 'missing.yaml');
      await expect(applyMigrations({ kubeconfig: missing, namespace: 'x', logger: false })).rejects.toThrow(`cannot read the kubeconfig ${missing}: no such file`);
      const garbage = join(dir, 'garbage.yaml');
      await writeFile(garbage, 'clusters: [unclosed');
      await expect(applyMigrations({ kubeconfig: garbage, namespace: 'x', logger: false })).rejects.toThrow(`cannot read the kubeconfig ${garbage}:`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('teardown closes the listener and every socket and WebSocket, and is idempotent', async () => {
    await using cluster = await kindCluster();
    const prepared = await prepareDatabase({ ...cluster.options, tables: ['audit_events'], logger: false });
    const idle = new pg.Client(prepared.connection);
    idle.on('error', () => {});
    await idle.connect();
    await cluster.sim.waitFor((c) => c.webSockets.open >= 1);
    await Promise.all([prepared.close(), prepared.close()]);
    await prepared.close();
    await cluster.sim.waitFor((c) => c.webSockets.open === 0 && c.upstreamSockets.open === 0, { description: 'all forwards closed' });
    expect(await refused(prepared.connection.port)).toBe(true);
    await idle.end().catch(() => {});
  });
});
