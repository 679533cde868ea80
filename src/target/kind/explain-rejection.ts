import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * client-node reports a refused WebSocket upgrade only as "Unexpected server response: 403".
 * The API server authorizes before it checks for an upgrade, so a plain GET of the same
 * path returns the `Status` that explains the refusal (RBAC, missing pod); we show that.
 */
export async function explainRejection(kc: KubeConfig, path: string, timeoutMs = 5_000): Promise<string | undefined> {
  const server = kc.getCurrentCluster()?.server;
  if (!server?.startsWith('https://')) return undefined;
  const options: Record<string, unknown> = { method: 'GET', timeout: timeoutMs };
  await kc.applyToHTTPSOptions(options as never);
  const url = new URL(path, server);
  return new Promise((resolve) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          const status = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: string };
          resolve(typeof status.message === 'string' ? status.message : undefined);
        } catch {
          resolve(undefined); // no Status body: keep the status code alone
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
