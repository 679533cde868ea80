import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, resolveConfig, type KindConfig } from '../../src/index.ts';
import { hostPortMapping } from '../target/kind/fake-docker.ts';
import { kindCluster } from '../target/kind/kind-cluster.ts';
import { cli } from '../support/cli.ts';



describe('transport and nodeAddress: config and flags', () => {
  test('defaults to auto; nodeAddress is read as host:port, IPv6 in brackets', () => {
    expect(resolveConfig({ namespace: 'ns' })).toMatchObject({ target: 'kind', transport: 'auto', nodeAddress: undefined });
    expect(resolveConfig({ namespace: 'ns', transport: 'nodeport', nodeAddress: '127.0.0.1:25433' })).toMatchObject({ transport: 'nodeport', nodeAddress: { host: '127.0.0.1', port: 25433 } });
    expect((resolveConfig({ namespace: 'ns', nodeAddress: '[::1]:25434' }) as KindConfig).nodeAddress).toEqual({ host: '::1', port: 25434 });
    expect((resolveConfig({ namespace: 'ns', nodeAddress: 'kind-worker:30432' }) as KindConfig).nodeAddress).toEqual({ host: 'kind-worker', port: 30432 });
  });

  test.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:25433', 'postgres://127.0.0.1:25433', ':25433', 'host:port'])('nodeAddress %j is a ConfigError naming the key', (nodeAddress) => {
    const error = (() => {
      try {
        resolveConfig({ namespace: 'ns', nodeAddress });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).details.key).toBe('nodeAddress');
    expect((error as Error).message).toBe('invalid configuration: "nodeAddress": must be host:port, e.g. 127.0.0.1:25433');
  });

  test('they only apply to Kind, and make a block Kind when alone', () => {
    expect(() => resolveConfig({ url: 'postgres://u:p@127.0.0.1:5432/db', transport: 'nodeport' })).toThrow('"transport" only apply to the Kind target, but the target is "url"');
    expect(() => resolveConfig({ nodeAddress: '127.0.0.1:25433' })).toThrow('"namespace" is required for the Kind target');
  });

  test('bad --node-address and --transport exit 2 naming the key; --json carries it', async () => {
    const address = await cli('apply', '-n', 'ns', '--node-address', '127.0.0.1');
    expect(address.code).toBe(2);
    expect(address.stderr).toContain('invalid command line: "nodeAddress": must be host:port, e.g. 127.0.0.1:25433');
    const json = await cli('doctor', '-n', 'ns', '--node-address', 'nope', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { name: 'ConfigError', details: { key: 'nodeAddress' } } });
    const transport = await cli('apply', '-n', 'ns', '--transport', 'sideways');
    expect(transport.code).toBe(2);
    expect(transport.stderr).toContain('"transport": must be "auto", "nodeport" or "port-forward"');
  });

  test('help names the flags and the doctor command', async () => {
    const apply = await cli('apply', '--help');
    expect(apply.stdout).toContain('--transport MODE');
    expect(apply.stdout).toContain('--node-address H:P');
    const top = await cli('--help');
    expect(top.stdout).toMatch(/doctor\s+check every link/);
    const doctorHelp = await cli('doctor', '--help');
    expect(doctorHelp.code).toBe(0);
    expect(doctorHelp.stdout).toContain('e2e-migrations doctor');
  });

  test('`apply --transport nodeport --node-address` reaches Postgres there; --json names the transport', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    await using mapping = await hostPortMapping({ host: '127.0.0.1', port: cluster.sim.nodePorts()[0]!.nodePort });
    const { kubeconfig, namespace, secret } = cluster.options;
    const run = await cli('apply', '--kubeconfig', kubeconfig, '-n', namespace, '--secret', secret, '--tables', 'audit_events', '--transport', 'nodeport', '--node-address', `127.0.0.1:${mapping.port}`, '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).transport).toEqual({
      transport: 'nodeport',
      mode: 'nodeport',
      address: `127.0.0.1:${mapping.port}`,
      reason: `nodeAddress 127.0.0.1:${mapping.port} answered as Postgres`,
      attempts: [{ source: 'nodeAddress', label: `nodeAddress 127.0.0.1:${mapping.port}`, address: `127.0.0.1:${mapping.port}`, outcome: 'answered', reason: expect.stringMatching(/^Postgres answered in \d+ ms$/) }],
    });
    expect(run.stderr).toMatch(new RegExp(`forward\\s+ok .*nodeport 127\\.0\\.0\\.1:${mapping.port} → service kubernaut-system/postgresql \\(nodeAddress 127\\.0\\.0\\.1:${mapping.port} answered as Postgres\\); no port-forward`));
    expect(cluster.sim.counters().webSockets.opened).toBe(0);
  });
});
