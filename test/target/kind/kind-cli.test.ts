import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { applyMigrations, ClusterError } from '../../../src/index.ts';
import { kindCluster } from './kind-cluster.ts';

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

/**
 * A stand-in for the `kind` CLI on PATH: `kind get kubeconfig --name e2e` prints the
 * simulator's kubeconfig, any other cluster name fails the way kind does.
 */
async function fakeKind(kubeconfigPath: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-kind-'));
  const script = `#!/bin/sh
if [ "$1 $2 $3" = "get kubeconfig --name" ] && [ "$4" = "e2e" ]; then cat "${kubeconfigPath}"; exit 0; fi
echo "ERROR: could not locate any control plane nodes for cluster named '$4'" >&2
exit 1
`;
  await writeFile(join(dir, 'kind'), script);
  await chmod(join(dir, 'kind'), 0o755);
  return dir;
}

test('kindCluster: the kubeconfig comes from `kind get kubeconfig --name`', async () => {
  await using cluster = await kindCluster();
  const bin = await fakeKind(cluster.sim.kubeconfigPath);
  try {
    process.env.PATH = `${bin}${delimiter}${savedPath}`;
    const result = await applyMigrations({ kindCluster: 'e2e', namespace: 'kubernaut-system', secret: 'postgresql-secret', tables: ['audit_events'], logger: false });
    expect(result.applied).toEqual(['0010_audit_events']);

    const missing = await applyMigrations({ kindCluster: 'nope', namespace: 'kubernaut-system', logger: false }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ClusterError);
    expect((missing as Error).message).toBe(
      `Kind cluster "nope" is not available: ERROR: could not locate any control plane nodes for cluster named 'nope' (see \`kind get clusters\`)`,
    );
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
});

test('kindCluster without the kind CLI says so', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'no-kind-'));
  try {
    process.env.PATH = empty;
    const error = await applyMigrations({ kindCluster: 'e2e', namespace: 'kubernaut-system', logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toContain('kindCluster "e2e" is set, but the `kind` command is not installed (not on PATH)');
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});
