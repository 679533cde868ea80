import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderKubeconfig, type KubeconfigInput, type KubeSimulator } from '../../../fixtures/k8s-simulator/index.ts';

export interface KubeconfigFiles extends AsyncDisposable {
  readonly dir: string;
  /** Writes the simulator's kubeconfig with `changes` (another CA, server, client certificate…) as `dir/name`. */
  write(name: string, changes?: Partial<KubeconfigInput>): Promise<string>;
  /** Writes `text` as is, e.g. an empty or broken file. */
  writeText(name: string, text: string): Promise<string>;
}

/** Kubeconfig variants of one simulator in a temp dir that closing removes. */
export async function kubeconfigFiles(sim: KubeSimulator): Promise<KubeconfigFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfigs-'));
  const base: KubeconfigInput = {
    contextName: sim.contextName,
    server: sim.url,
    caCert: sim.pki.ca.cert,
    clientCert: sim.clientCert.cert,
    clientKey: sim.clientCert.key,
  };
  const writeText = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  return {
    dir,
    write: (name, changes = {}) => writeText(name, renderKubeconfig({ ...base, ...changes })),
    writeText,
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}
