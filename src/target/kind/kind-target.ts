import { CoreV1Api } from '@kubernetes/client-node';
import { completeCredentials } from '../../config/defaults.ts';
import type { KindConfig } from '../../config/resolve-config.ts';
import { connectionInfo } from '../../postgres/connection-string.ts';
import type { TargetContext } from '../open-target.ts';
import type { StartedTarget } from '../target.ts';
import { loadKubeConfig } from './load-kube-config.ts';
import { startPortForward } from './port-forward-server.ts';
import { readCredentials } from './read-credentials.ts';
import { waitForReadyPod } from './wait-for-ready-pod.ts';

/**
 * The Kind target: find the cluster, resolve the Postgres Service to a Ready pod, read
 * credentials (stage `cluster`), and open a port-forward on 127.0.0.1 (stage `forward`),
 * which goes on the session's teardown stack as soon as it listens.
 */
export async function startKindTarget(config: KindConfig, context: TargetContext): Promise<StartedTarget> {
  const { namespace, service } = config;
  const { reporter } = context;
  const found = await context.stage('cluster', async (progress) => {
    progress.waitingFor(config.kindCluster ? `the kubeconfig of Kind cluster "${config.kindCluster}"` : 'the kubeconfig');
    const cluster = await loadKubeConfig({
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
      ...(config.context ? { context: config.context } : {}),
      ...(config.kindCluster ? { kindCluster: config.kindCluster } : {}),
    });
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const query = { namespace, service, timeoutMs: config.readyTimeoutMs, cluster, onWait: (what: string) => progress.waitingFor(what) };
    const pod = await waitForReadyPod(core, query);
    const credentials = completeCredentials(config.credentials, config.secret ? await readCredentials(core, namespace, config.secret, cluster) : {});
    reporter.addSecret(credentials.password);
    progress.done(`context ${cluster.context} (${cluster.server}), service ${namespace}/${service} → pod ${pod.name}${config.secret ? `, credentials from secret ${config.secret}` : ''}`);
    return { cluster, core, pod, credentials, query };
  });

  return context.stage('forward', async (progress) => {
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
    const description = `${found.cluster.context}/${namespace}/${service} via 127.0.0.1:${forward.port}`;
    context.stack.use(`port-forward ${description}`, forward);
    progress.waitingFor(`the port-forward to pod ${namespace}/${found.pod.name}:${config.port}`);
    await forward.probe();
    progress.done(`127.0.0.1:${forward.port} → ${namespace}/${found.pod.name}:${config.port}`);
    return Object.freeze({
      kind: 'kind' as const,
      connection: connectionInfo({ host: '127.0.0.1', port: forward.port, ...found.credentials }),
      description,
      forward,
      close: forward.close,
      [Symbol.asyncDispose]: forward.close,
    });
  });
}
