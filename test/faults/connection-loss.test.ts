import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { kindCluster, type KindCluster } from '../target/kind/kind-cluster.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/bin.ts');

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(cluster: KindCluster, ...args: string[]): Promise<CliRun> {
  const { kubeconfig, namespace, secret } = cluster.options;
  const child = spawn(process.execPath, [MAIN, ...args, '--kubeconfig', kubeconfig, '-n', namespace, '--secret', secret], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/*
 * A Kind tunnel that drops: the simulator cuts the port-forward of the migration connection
 * after N bytes the CLI sent (N from the first query to the last statement of the schema).
 * What the user must see each time: exit 1, a DatabaseError naming the forward's host:port
 * and the stage, no crash trace, the teardown line; and the next run finishes the job.
 */
describe('connection loss through a Kind port-forward', () => {
  // A full apply sends ~111 KB and receives ~714 KB, the last ~28 KB of it verification's
  // catalog query: the cases cut the login, the lock, early and late migrations, and verify.
  test.each([
    [200, 'to-pod'],
    [2_000, 'to-pod'],
    [20_000, 'to-pod'],
    [60_000, 'to-pod'],
    [100_000, 'to-pod'],
    [700_000, 'to-client'],
  ] as const)('dropped after %i bytes (%s): exit 1 naming host:port, teardown, then the next run recovers', async (bytes, direction) => {
    await using cluster = await kindCluster();
    // The forward's probe opens a WebSocket first (and sends nothing); the connection after it is cut.
    cluster.sim.faults.dropConnectionAfterBytes(bytes, { direction, connections: 2 });
    const dropped = await cli(cluster, 'apply', '--all');
    expect(dropped.stderr).not.toMatch(/Unhandled|unhandled|at .*node:internal|TypeError/);
    expect(dropped.code, dropped.stderr).toBe(1);
    expect(dropped.stderr).toMatch(/e2e-migrations: (migrate|verify) failed: (lost the connection to Postgres at 127\.0\.0\.1:\d+|cannot connect to Postgres at 127\.0\.0\.1:\d+)/);
    expect(dropped.stderr).toMatch(/teardown ok/);
    await cluster.sim.waitFor((c) => c.webSockets.open === 0, { description: 'the forward closed' });

    const again = await cli(cluster, 'apply', '--all', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true });
    const status = await cli(cluster, 'status', '--json');
    expect(JSON.parse(status.stdout).migrations.every((m: { applied: boolean; checksum: string }) => m.applied && m.checksum === 'ok')).toBe(true);
  });
});
