import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from './load-kube-config.ts';
import { readCredentials } from './read-credentials.ts';
import { waitForReadyPod } from './wait-for-ready-pod.ts';
import type { MigrationConfig } from '../../config/resolve-config.ts';
import { DEFAULTS } from '../../config/defaults.ts';
import { startPortForward } from './port-forward-server.ts';
import type { Reporter } from '../../report/reporter.ts';
import { once, type StartedTarget } from '../target.ts';

/**
 * The Kind target: find the cluster, resolve the Postgres Service to a Ready pod, read
 * credentials, and open a port-forward on 127.0.0.1. Closing it closes the forward.
 */
export async function startKindTarget(config: MigrationConfig, reporter: Reporter): Promise<StartedTarget> {
  const namespace = config.namespace!;
  const { service } = config;
  const found = await reporter.stage('cluster', async (progress) => {
    progress.waitingFor(config.kindCluster ? `the kubeconfig of Kind cluster "${config.kindCluster}"` : 'the kubeconfig');
    const cluster = await loadKubeConfig({
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
      ...(config.context ? { context: config.context } : {}),
      ...(config.kindCluster ? { kindCluster: config.kindCluster } : {}),
    });
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const query = { namespace, service, timeoutMs: config.readyTimeoutMs, server: cluster.server, onWait: (what: string) => progress.waitingFor(what) };
    const pod = await waitForReadyPod(core, query);
    const fromSecret = config.secret ? await readCredentials(core, namespace, config.secret) : {};
    // Explicit values win, then the Secret, then the defaults.
    const credentials = {
      user: config.user ?? fromSecret.user ?? DEFAULTS.user,
      password: config.password ?? fromSecret.password ?? DEFAULTS.password,
      database: config.database ?? fromSecret.database ?? DEFAULTS.database,
    };
    reporter.addSecret(credentials.password);
    progress.done(`context ${cluster.context} (${cluster.server}), service ${namespace}/${service} → pod ${pod.name}${config.secret ? `, credentials from secret ${config.secret}` : ''}`);
    return { cluster, core, pod, credentials, query };
  });

  return reporter.stage('forward', async (progress) => {
    let first = true;
    const forward = await startPortForward({
      kc: found.cluster.kc,
      namespace,
      remotePort: config.port,
      resolvePod: async () => {
        if (first) {
          first = false;
          return found.pod;
        }
        const pod = await waitForReadyPod(found.core, { ...found.query, onWait: (what) => reporter.info(`forward  waiting for ${what}`) });
        reporter.info(`forward  now to pod ${namespace}/${pod.name}`);
        return pod;
      },
      onEvent: (message) => reporter.warn(message),
    });
    try {
      progress.waitingFor(`the port-forward to pod ${namespace}/${found.pod.name}:${config.port}`);
      await forward.probe();
    } catch (error) {
      await forward.close();
      throw error;
    }
    const close = once(() => forward.close());
    progress.done(`127.0.0.1:${forward.port} → ${namespace}/${found.pod.name}:${config.port}`);
    return Object.freeze({
      kind: 'kind' as const,
      connection: Object.freeze({ host: '127.0.0.1', port: forward.port, ...found.credentials }),
      description: `${found.cluster.context}/${namespace}/${service} via 127.0.0.1:${forward.port}`,
      forward,
      close,
      [Symbol.asyncDispose]: close,
    });
  });
}
