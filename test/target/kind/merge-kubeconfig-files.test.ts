import { copyFile, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { startKubeSimulator } from '../../../fixtures/k8s-simulator/index.ts';
import { applyMigrations, ClusterError } from '../../../src/index.ts';
import { loadKubeConfig } from '../../../src/target/kind/load-kube-config.ts';
import { freePort } from '../../../src/util/free-port.ts';
import { kindCluster } from './kind-cluster.ts';
import { kubeconfigFiles } from './kubeconfig-files.ts';
import { hasKubectl, kubectl } from './kubectl.ts';

const list = (...files: string[]) => files.join(delimiter);

/** What kubectl makes of a $KUBECONFIG list: the current context and its cluster's server. */
async function kubectlView(KUBECONFIG: string): Promise<{ context: string; server: string }> {
  const view = await kubectl(['config', 'view', '--merge', '--minify', '-o', 'jsonpath={.current-context} {.clusters[0].cluster.server}'], { KUBECONFIG });
  expect(view.stderr).toBe('');
  const [context = '', server = ''] = view.stdout.split(' ');
  return { context, server };
}

describe('$KUBECONFIG lists merge as kubectl merges them', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  test('a missing file in the list is skipped; the run goes through the next one', async () => {
    await using cluster = await kindCluster();
    await using files = await kubeconfigFiles(cluster.sim);
    vi.stubEnv('KUBECONFIG', list(join(files.dir, 'does-not-exist'), cluster.sim.kubeconfigPath));

    const result = await applyMigrations({ namespace: cluster.options.namespace, secret: cluster.options.secret, tables: ['audit_events'], logger: false });
    expect(result.applied).toEqual(['0010_audit_events']);
    if (hasKubectl) {
      const ns = await kubectl(['get', 'namespaces', '-o', 'name'], { KUBECONFIG: process.env.KUBECONFIG! });
      expect(ns.stdout).toContain('namespace/kubernaut-system');
    }
  });

  test('a name in two files keeps the first file’s entry, and the first current-context wins', async () => {
    await using sim = await startKubeSimulator();
    await using files = await kubeconfigFiles(sim);
    const refused = `https://127.0.0.1:${await freePort()}`;
    const good = await files.write('good'); // kind-e2e → the simulator
    const stale = await files.write('stale', { server: refused }); // kind-e2e again, elsewhere
    const other = await files.write('other', { contextName: 'kind-other', server: refused }); // current-context kind-other

    const cases = [
      { KUBECONFIG: list(good, stale), context: 'kind-e2e', server: sim.url },
      { KUBECONFIG: list(stale, good), context: 'kind-e2e', server: refused },
      { KUBECONFIG: list(good, other), context: 'kind-e2e', server: sim.url },
      { KUBECONFIG: list(other, good), context: 'kind-other', server: refused },
    ];
    for (const expected of cases) {
      vi.stubEnv('KUBECONFIG', expected.KUBECONFIG);
      const loaded = await loadKubeConfig({});
      expect({ KUBECONFIG: expected.KUBECONFIG, context: loaded.context, server: loaded.server }).toEqual(expected);
      if (hasKubectl) expect(await kubectlView(expected.KUBECONFIG)).toEqual({ context: expected.context, server: expected.server });
    }

    // A context only the second file has is there to choose.
    vi.stubEnv('KUBECONFIG', list(good, other));
    expect((await loadKubeConfig({ context: 'kind-other' })).server).toBe(refused);
  });

  test('the stale entry first: the run fails on its server, as kubectl does', async () => {
    await using sim = await startKubeSimulator();
    await using files = await kubeconfigFiles(sim);
    const port = await freePort();
    const KUBECONFIG = list(await files.write('stale', { server: `https://127.0.0.1:${port}` }), await files.write('good'));
    vi.stubEnv('KUBECONFIG', KUBECONFIG);

    const error = await applyMigrations({ namespace: 'kubernaut-system', logger: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toBe(`nothing listens at https://127.0.0.1:${port} (connection refused): is the Kind cluster running? \`kind get clusters\``);
    if (hasKubectl) expect((await kubectl(['get', 'namespaces'], { KUBECONFIG })).stderr).toContain(`The connection to the server 127.0.0.1:${port} was refused`);
  });

  test('an empty file is an empty config; relative certificate paths resolve against their own file', async () => {
    await using sim = await startKubeSimulator();
    await using files = await kubeconfigFiles(sim);
    const empty = await files.writeText('empty', '# nothing here yet\n');
    // A kubeconfig in another folder that names its CA file relatively, as kubeadm's admin.conf may.
    const elsewhere = join(files.dir, 'elsewhere');
    await mkdir(elsewhere);
    await copyFile(await files.writeText('ca.crt', sim.pki.ca.cert), join(elsewhere, 'ca.crt'));
    const relative = await files.writeText(
      join('elsewhere', 'config'),
      sim.kubeconfig.replace(/certificate-authority-data: \S+/, 'certificate-authority: ca.crt'),
    );
    vi.stubEnv('KUBECONFIG', list(empty, relative));

    const loaded = await loadKubeConfig({});
    expect(loaded.kc.getCurrentCluster()?.caFile).toBe(join(elsewhere, 'ca.crt'));
    expect(loaded.origin).toBe(list(empty, relative));
    if (hasKubectl) expect((await kubectl(['get', 'namespaces', '-o', 'name'], { KUBECONFIG: list(empty, relative) })).stdout).toContain('namespace/default');
  });

  test('every file of the list missing: named, instead of an empty config', async () => {
    await using sim = await startKubeSimulator();
    await using files = await kubeconfigFiles(sim);
    const KUBECONFIG = list(join(files.dir, 'a'), join(files.dir, 'b'));
    vi.stubEnv('KUBECONFIG', KUBECONFIG);
    await expect(loadKubeConfig({})).rejects.toThrow(new ClusterError(`no kubeconfig found: none of the files in $KUBECONFIG exists (${KUBECONFIG})`));
  });

  test('a broken file in the list is named, as kubectl names it', async () => {
    await using sim = await startKubeSimulator();
    await using files = await kubeconfigFiles(sim);
    const broken = await files.writeText('broken', 'clusters: [\n');
    vi.stubEnv('KUBECONFIG', list(await files.write('good'), broken));
    const error = await loadKubeConfig({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot read the kubeconfig ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    if (hasKubectl) expect((await kubectl(['get', 'namespaces'], { KUBECONFIG: process.env.KUBECONFIG! })).stderr).toContain(`error loading config file "${broken}"`);
  });
});
