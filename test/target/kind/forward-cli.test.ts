import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from 'vitest';
import { kindCluster, query } from './kind-cluster.ts';

const MAIN = join(import.meta.dirname, '../../../src/cli/bin.ts');

test('`e2e-migrations forward` prints a masked URL, forwards until Ctrl-C, then closes everything', async () => {
  await using cluster = await kindCluster();
  const { kubeconfig, namespace, secret } = cluster.options;
  const child = spawn(process.execPath, [MAIN, 'forward', '--kubeconfig', kubeconfig, '-n', namespace, '--secret', secret], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const url = new URL(line);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.password).toBe('***');
    expect(url.pathname).toBe(`/${cluster.db.connection.database}`);
    const rows = await query<{ ok: number }>({ ...cluster.db.connection, host: '127.0.0.1', port: Number(url.port) }, 'select 1 as ok');
    expect(rows).toEqual([{ ok: 1 }]);
  } finally {
    child.kill('SIGINT');
  }
  const [code] = (await once(child, 'exit')) as [number];
  expect(code, stderr).toBe(0);
  expect(stderr).toMatch(/teardown ok/);
  expect(stderr).not.toContain(cluster.db.connection.password);
  await cluster.sim.waitFor((c) => c.webSockets.open === 0 && c.upstreamSockets.open === 0);
});
