import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createClusterPki, createUntrustedClientCert, startKubeSimulator, type KubeSimulator } from '../../../fixtures/k8s-simulator/index.ts';
import { applyMigrations, ClusterError } from '../../../src/index.ts';
import { loadKubeConfig, type LoadedKubeConfig } from '../../../src/target/kind/load-kube-config.ts';
import { readCredentials } from '../../../src/target/kind/read-credentials.ts';
import { waitForReadyPod } from '../../../src/target/kind/wait-for-ready-pod.ts';
import { freePort } from '../../../src/util/free-port.ts';
import { kubeconfigFiles } from './kubeconfig-files.ts';
import { hasKubectl, kubectl } from './kubectl.ts';

const namespace = 'kubernaut-system';
const service = 'postgresql';
const KIND_REFRESH = '; refresh the kubeconfig: `kind export kubeconfig --name e2e`';

/** What the public API rejects with for this kubeconfig; the run must fail in the cluster stage. */
async function runFails(kubeconfig: string): Promise<ClusterError> {
  const error = await applyMigrations({ kubeconfig, namespace, logger: false }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ClusterError);
  expect((error as ClusterError).stage).toBe('cluster');
  return error as ClusterError;
}

/** What a lookup fails with when the caller passes the loaded kubeconfig, as the Kind target can. */
async function lookupFails(cluster: LoadedKubeConfig): Promise<ClusterError> {
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const error = await waitForReadyPod(core, { namespace, service, timeoutMs: 1_000, cluster }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ClusterError);
  return error as ClusterError;
}

/** The `x509: …` or other tail kubectl prints on its last line. */
async function kubectlSays(kubeconfig: string): Promise<string> {
  const result = await kubectl(['--kubeconfig', kubeconfig, 'get', 'namespaces']);
  expect(result.code).not.toBe(0);
  return result.stderr.trim().split('\n').pop() ?? '';
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('cluster errors name the problem, as kubectl does', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let sim: KubeSimulator;

  beforeEach(async () => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    sim = await startKubeSimulator();
  });

  afterEach(async () => {
    await sim.close();
    // A rejection nobody awaited surfaces on a later turn of the event loop.
    await nextMacrotask();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  test('a CA that did not sign the server certificate: "x509: certificate signed by unknown authority"', async () => {
    await using files = await kubeconfigFiles(sim);
    const otherCluster = await createClusterPki({ clusterName: 'other', userName: 'kind-other', userGroups: [] });
    const kubeconfig = await files.write('other-ca', { caCert: otherCluster.ca.cert });

    const error = await runFails(kubeconfig);
    expect(error.message).toMatch(
      new RegExp(`^the API server at ${escape(sim.url)} presents a certificate not signed by the CA in the kubeconfig.*: x509: certificate signed by unknown authority`),
    );
    // The TLS failure itself stays reachable for whoever needs more.
    expect(error.cause).toBeInstanceOf(Error);

    expect((await lookupFails(await loadKubeConfig({ kubeconfig }))).message).toBe(
      `the API server at ${sim.url} presents a certificate not signed by the CA in the kubeconfig (certificate-authority-data of cluster kind-e2e): ` +
        `x509: certificate signed by unknown authority; if the cluster was recreated, refresh the kubeconfig: \`kind export kubeconfig --name e2e\``,
    );
    if (hasKubectl) expect(await kubectlSays(kubeconfig)).toContain('x509: certificate signed by unknown authority');
  });

  test('an expired client certificate: the API server rejected the client certificate, which expired on …', async () => {
    await using files = await kubeconfigFiles(sim);
    const notAfter = new Date(Date.now() - 24 * 3_600_000);
    const expired = await sim.pki.issueClientCert('kind-e2e', ['kubeadm:cluster-admins'], { notBefore: new Date(notAfter.getTime() - 3_600_000), notAfter });
    const kubeconfig = await files.write('expired-client', { clientCert: expired.cert, clientKey: expired.key });

    const error = await runFails(kubeconfig);
    expect(error.message).toMatch(/^the API server at \S+ rejected the (kubeconfig's credentials \(for Kind, a )?client certificate\b.*: Unauthorized/);

    // Certificates carry whole seconds.
    const expiredOn = new Date(Math.floor(notAfter.getTime() / 1_000) * 1_000).toISOString();
    expect((await lookupFails(await loadKubeConfig({ kubeconfig }))).message).toBe(
      `the API server at ${sim.url} rejected the client certificate of user kind-e2e (expired on ${expiredOn}): Unauthorized${KIND_REFRESH}`,
    );
    if (hasKubectl) expect(await kubectlSays(kubeconfig)).toContain('You must be logged in to the server');
  });

  test('a client certificate from another CA: not signed by the CA of the cluster', async () => {
    await using files = await kubeconfigFiles(sim);
    const foreign = await createUntrustedClientCert('kind-e2e');
    const kubeconfig = await files.write('foreign-client', { clientCert: foreign.cert, clientKey: foreign.key });

    expect((await runFails(kubeconfig)).message).toContain('client certificate');
    const error = await lookupFails(await loadKubeConfig({ kubeconfig }));
    expect(error.message).toBe(`the API server at ${sim.url} rejected the client certificate of user kind-e2e (not signed by the CA of cluster kind-e2e): Unauthorized${KIND_REFRESH}`);
    expect(error.details).toMatchObject({ context: 'kind-e2e', namespace, service });
  });

  test('a server that drops the connection for a foreign client certificate: the likely reason is named', async () => {
    // Not kube-apiserver (which answers 401) but a proxy-like server that requires a client
    // certificate; Node's TLS server closes the socket instead of sending an alert.
    const strict = https.createServer({ key: sim.pki.server.key, cert: sim.pki.server.cert, ca: [sim.pki.ca.cert], requestCert: true, rejectUnauthorized: true }, (_req, res) =>
      res.end('{}'),
    );
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', resolve));
    try {
      await using files = await kubeconfigFiles(sim);
      const foreign = await createUntrustedClientCert('kind-e2e');
      const server = `https://127.0.0.1:${(strict.address() as AddressInfo).port}`;
      const kubeconfig = await files.write('strict', { server, clientCert: foreign.cert, clientKey: foreign.key });
      expect((await lookupFails(await loadKubeConfig({ kubeconfig }))).message).toMatch(
        new RegExp(
          `^the API server at ${escape(server)} closed the connection \\((UND_ERR_SOCKET|ECONNRESET): [^)]+\\); the client certificate of user kind-e2e is not signed by the CA of cluster kind-e2e, which a server that requires client certificates refuses${escape(KIND_REFRESH)}$`,
        ),
      );
    } finally {
      strict.closeAllConnections();
      await new Promise((resolve) => strict.close(resolve));
    }
  });

  test('nothing listening: connection refused, with the question to ask', async () => {
    await using files = await kubeconfigFiles(sim);
    const port = await freePort();
    const kubeconfig = await files.write('refused', { server: `https://127.0.0.1:${port}` });

    expect((await runFails(kubeconfig)).message).toBe(`nothing listens at https://127.0.0.1:${port} (connection refused): is the Kind cluster running? \`kind get clusters\``);
    if (hasKubectl) expect(await kubectlSays(kubeconfig)).toContain(`The connection to the server 127.0.0.1:${port} was refused`);
  });

  test('a server name the certificate does not carry: kubectl’s "certificate is valid for …, not …"', async () => {
    await using files = await kubeconfigFiles(sim);
    const kubeconfig = await files.write('wrong-name', { tlsServerName: 'wrong.example' });

    const x509 =
      'x509: certificate is valid for localhost, kubernetes, kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.cluster.local, e2e-control-plane, not wrong.example';
    expect((await runFails(kubeconfig)).message).toBe(
      `the API server's certificate does not name wrong.example: ${x509}; use a server address it names, or set tls-server-name for cluster kind-e2e in the kubeconfig`,
    );
    expect((await lookupFails(await loadKubeConfig({ kubeconfig }))).message).toContain('or set tls-server-name for cluster kind-e2e in the kubeconfig');
    if (hasKubectl) expect(await kubectlSays(kubeconfig)).toContain(x509);
  });

  test('reading the Secret explains a failure the same way', async () => {
    await using files = await kubeconfigFiles(sim);
    const port = await freePort();
    const cluster = await loadKubeConfig({ kubeconfig: await files.write('refused', { server: `https://127.0.0.1:${port}` }) });
    const error = await readCredentials(cluster.kc.makeApiClient(CoreV1Api), namespace, 'postgresql-secret', cluster).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toBe(`nothing listens at https://127.0.0.1:${port} (connection refused): is the Kind cluster running? \`kind get clusters\``);
    expect((error as ClusterError).details).toMatchObject({ namespace, context: 'kind-e2e' });
  });
});
