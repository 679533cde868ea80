import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { startKubeSimulator, type KubeSimulator } from '../../fixtures/k8s-simulator/index.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { count, FIXTURES, injected, jest, probePort, stageResults, vitest, vitestWatchRerun } from './run-runner.ts';

/** A simulated Kind cluster whose Postgres pod forwards to a fresh database of the suite's server. */
async function kindCluster(db: FreshDatabase): Promise<KubeSimulator> {
  const { host, port, user, password, database } = db.connection;
  return startKubeSimulator({ postgres: { upstream: { host, port }, credentials: { user, password, database } } });
}

function forwardPort(output: string): number {
  const match = /forward\s+ok\s+\d+ ms\s+127\.0\.0\.1:(\d+) →/.exec(output);
  if (!match) throw new Error(`no forward in the output:\n${output}`);
  return Number(match[1]);
}

const KIND_STAGES = ['cluster ok', 'forward ok', 'migrate ok', 'verify ok', 'provide ok', 'teardown ok'];

describe('the runners against Kind, through the Kubernetes API simulator', () => {
  test('Vitest: cluster → forward → migrate → verify → provide, the forward closed after the run', async () => {
    await using db = await freshDatabase('kind_vitest');
    await using sim = await kindCluster(db);
    const run = await vitest('vitest-project', ['--config', 'vitest.kind.config.ts'], { env: { FIXTURE_KUBECONFIG: sim.kubeconfigPath } });
    expect(run.code, run.output).toBe(0);
    expect(stageResults(run.output)).toEqual(KIND_STAGES);
    expect(run.output).toContain('credentials from secret postgresql-secret');
    const port = forwardPort(run.output);
    expect(injected(run.output)).toEqual([{ host: '127.0.0.1', port, database: db.connection.database, user: 'postgres', tables: ['audit_events'], isolate: null }]);
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    await sim.waitFor((c) => c.webSockets.open === 0 && c.upstreamSockets.open === 0);
    expect(await probePort(port)).toBe('ECONNREFUSED');
    expect(run.output).not.toContain(inject('pgAdmin').password);
  });

  test('Jest: the same block in testEnvironmentOptions, the connection in process.env', async () => {
    await using db = await freshDatabase('kind_jest');
    await using sim = await kindCluster(db);
    const run = await jest('jest-project', [], { env: { FIXTURE_KUBECONFIG: sim.kubeconfigPath } });
    expect(run.code, run.output).toBe(0);
    expect(stageResults(run.output)).toEqual(KIND_STAGES);
    expect(injected(run.output)[0]).toMatchObject({ port: forwardPort(run.output), database: db.connection.database });
    await sim.waitFor((c) => c.webSockets.open === 0 && c.upstreamSockets.open === 0);
    expect(run.output).not.toContain(inject('pgAdmin').password);
  });

  test('a forbidden port-forward fails setup in the forward stage, with the cause', async () => {
    await using db = await freshDatabase('kind_forbidden');
    await using sim = await kindCluster(db);
    sim.faults.forbidPortForward();
    const run = await vitest('vitest-project', ['--config', 'vitest.kind.config.ts'], { env: { FIXTURE_KUBECONFIG: sim.kubeconfigPath } });
    expect(run.code).toBe(1);
    expect(stageResults(run.output)).toEqual(['cluster ok', 'forward FAILED', 'teardown ok']);
    expect(run.output).toMatch(/SetupError: e2e-migrations \(vitest global setup\): forward failed: .*forbidden/);
    expect(run.output).not.toContain(inject('pgAdmin').password);
  });

  test('watch mode keeps the one port-forward across a rerun, which re-verifies through it', async () => {
    await using db = await freshDatabase('kind_watch');
    await using sim = await kindCluster(db);
    const spec = join(FIXTURES, 'vitest-project/kind.spec.ts');
    const run = await vitestWatchRerun('vitest-project', ['--config', 'vitest.kind.config.ts'], spec, { env: { FIXTURE_KUBECONFIG: sim.kubeconfigPath } });
    expect(run.stopped, run.output).toBe(true);
    expect(count(run.output, /forward\s+ok/)).toBe(1);
    expect(count(run.output, /^INJECTED /m)).toBe(2); // both runs' tests went through it
    expect(count(run.output, /teardown\s+ok/)).toBe(1);
    await sim.waitFor((c) => c.webSockets.open === 0 && c.upstreamSockets.open === 0);
  });
});
