import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from '../../errors/errors.ts';
import { kindKubeconfig } from './kind-kubeconfig.ts';

export interface ClusterLocation {
  /** Kubeconfig path. @default $KUBECONFIG, then ~/.kube/config */
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
 */
export async function loadKubeConfig(location: ClusterLocation): Promise<LoadedKubeConfig> {
  const kc = new KubeConfig();
  let origin: string;
  if (location.kindCluster) {
    origin = `kind get kubeconfig --name ${location.kindCluster}`;
    const text = await kindKubeconfig(location.kindCluster);
    parse(() => kc.loadFromString(text), origin);
  } else {
    const files = location.kubeconfig ? [location.kubeconfig] : defaultKubeconfigFiles();
    if (files.length === 0) {
      throw new ClusterError('no kubeconfig found: set "kubeconfig" (--kubeconfig), $KUBECONFIG, or "kindCluster" (--kind-cluster)');
    }
    origin = files.join(delimiter);
    parse(() => {
      kc.loadFromFile(files[0]!);
      for (const file of files.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more);
      }
    }, origin);
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

function defaultKubeconfigFiles(): string[] {
  const fromEnv = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) return fromEnv;
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

function parse(load: () => void, origin: string): void {
  try {
    load();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message.split('\n')[0];
    throw new ClusterError(`cannot read the kubeconfig ${origin}: ${reason}`, {}, { cause: error });
  }
}
