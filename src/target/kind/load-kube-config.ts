import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from '../../errors/errors.ts';
import { kindKubeconfig } from './kind-kubeconfig.ts';
import { mergeKubeconfigFiles } from './merge-kubeconfig-files.ts';

export interface ClusterLocation {
  /**
   * One kubeconfig file, which must exist (like kubectl's `--kubeconfig`).
   * @default the files of $KUBECONFIG merged as kubectl merges them, else ~/.kube/config
   */
  readonly kubeconfig?: string;
  /** @default the kubeconfig's current-context */
  readonly context?: string;
  /** Read the kubeconfig from `kind get kubeconfig --name` instead of a file. */
  readonly kindCluster?: string;
}

export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  readonly context: string;
  readonly server: string;
  /** Where it came from, for messages: a path or `kind get kubeconfig --name x`. */
  readonly origin: string;
}

/**
 * Loads a kubeconfig and selects the context. TLS and credentials stay exactly as the
 * kubeconfig says (client certificates, tokens, exec plugins): client-node applies them.
 *
 * Without `kubeconfig`, `$KUBECONFIG` is read the way kubectl reads it (see mergeKubeconfigFiles).
 * An explicit `kubeconfig` is one file that must exist, as kubectl's `--kubeconfig` is.
 */
export async function loadKubeConfig(location: ClusterLocation): Promise<LoadedKubeConfig> {
  let kc: KubeConfig;
  let origin: string;
  if (location.kindCluster) {
    origin = `kind get kubeconfig --name ${location.kindCluster}`;
    const text = await kindKubeconfig(location.kindCluster);
    kc = new KubeConfig();
    parse(() => kc.loadFromString(text), origin);
  } else if (location.kubeconfig) {
    origin = location.kubeconfig;
    kc = mergeKubeconfigFiles([location.kubeconfig], { skipMissing: false }).kc;
  } else {
    ({ kc, origin } = fromDefaultLocations());
  }

  const context = location.context ?? kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name);
    throw new ClusterError(
      `${location.context ? `context "${location.context}" is not in` : 'no current-context set in'} the kubeconfig ${origin} (contexts: ${known.join(', ') || 'none'})`,
      { context: location.context ?? '' },
    );
  }
  kc.setCurrentContext(context);
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new ClusterError(`context "${context}" in ${origin} names no cluster with a server`, { context });
  return Object.freeze({ kc, context, server, origin });
}

/** $KUBECONFIG (a list; missing files skipped, as kubectl does), else ~/.kube/config. */
function fromDefaultLocations(): { kc: KubeConfig; origin: string } {
  const listed = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const loaded = mergeKubeconfigFiles(listed.length > 0 ? listed : [join(homedir(), '.kube', 'config')], { skipMissing: true });
  if (loaded.files.length === 0) {
    throw new ClusterError(
      listed.length > 0
        ? `no kubeconfig found: none of the files in $KUBECONFIG exists (${listed.join(delimiter)})`
        : 'no kubeconfig found: set "kubeconfig" (--kubeconfig), $KUBECONFIG, or "kindCluster" (--kind-cluster)',
    );
  }
  return { kc: loaded.kc, origin: loaded.files.join(delimiter) };
}

function parse(load: () => void, origin: string): void {
  try {
    load();
  } catch (error) {
    throw new ClusterError(`cannot read the kubeconfig ${origin}: ${(error as Error).message.split('\n')[0]}`, {}, { cause: error });
  }
}
