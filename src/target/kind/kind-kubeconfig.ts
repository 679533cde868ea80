import { ClusterError } from '../../errors/errors.ts';
import { loadZx } from './load-zx.ts';

/**
 * Gets a Kind cluster's kubeconfig the way a user would: `kind get kubeconfig --name NAME`,
 * through zx (arguments are escaped, never spliced into a shell string by hand).
 */
export async function kindKubeconfig(cluster: string): Promise<string> {
  const { $, which } = loadZx();
  if (!(await which('kind', { nothrow: true }))) {
    throw new ClusterError(`kindCluster "${cluster}" is set, but the \`kind\` command is not installed (not on PATH); install kind or pass a kubeconfig instead`, {
      context: `kind-${cluster}`,
    });
  }
  const result = await $({ quiet: true, nothrow: true })`kind get kubeconfig --name ${cluster}`;
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n').pop() ?? `exit code ${result.exitCode}`;
    throw new ClusterError(`Kind cluster "${cluster}" is not available: ${reason} (see \`kind get clusters\`)`, { context: `kind-${cluster}` });
  }
  return result.stdout;
}
