import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createClusterPki, renderKubeconfig } from '../../fixtures/k8s-simulator/index.ts';
import { applyMigrations, doctor } from '../../src/index.ts';
import { freshDatabase } from '../support/fresh-database.ts';
import { kindCluster, query } from '../target/kind/kind-cluster.ts';
import { cli, type CliRun } from '../support/cli.ts';




type Cluster = Awaited<ReturnType<typeof kindCluster>>;
const kindFlags = (cluster: Cluster) => ['--kubeconfig', cluster.options.kubeconfig, '-n', cluster.options.namespace, '--secret', cluster.options.secret];

/** The line of a link: `FAIL  permissions   …`. */
const line = (run: CliRun, link: string) => run.stdout.split('\n').find((l) => new RegExp(`^\\S+\\s+${link}\\s`).test(l)) ?? `(no ${link} line)`;
/** The status word of each link, in order. */
const statuses = (run: CliRun) =>
  run.stdout
    .split('\n')
    .map((l) => /^(ok|WARN|FAIL|skip)\s+(\S+)/.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[2]}:${m[1]}`);

describe('e2e-migrations doctor', () => {
  test('a healthy, migrated Kind cluster: every link ok, exit 0', async () => {
    await using cluster = await kindCluster();
    await applyMigrations({ ...cluster.options, logger: false });
    const run = await cli('doctor', ...kindFlags(cluster));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statuses(run)).toEqual([
      'migrations:ok',
      'kubeconfig:ok',
      'api-server:ok',
      'permissions:ok',
      'service:ok',
      'pod:ok',
      'secret:ok',
      'nodeport:skip',
      'port-forward:ok',
      'login:ok',
      'ledger:ok',
      'partitions:ok',
    ]);
    expect(line(run, 'nodeport')).toContain('not used: service kubernaut-system/postgresql has no nodePort (type ClusterIP); a run uses the port-forward');
    expect(line(run, 'port-forward')).toMatch(/127\.0\.0\.1:\d+ → kubernaut-system\/postgresql-\S+:5432: Postgres answered in \d+ ms; a run uses this$/);
    expect(line(run, 'ledger')).toMatch(/ledger\s+\d+ applied, 0 pending, 0 changed since applied$/);
    expect(line(run, 'partitions')).toMatch(/audit_events covers \d{4}-\d{2} through \d{4}-\d{2} \(monthsAhead 3\)/);
    expect(run.stdout).toMatch(/a run would succeed\n$/);
    expect(run.stdout + run.stderr).not.toContain(cluster.db.connection.password);
    await cluster.sim.waitFor((c) => c.webSockets.open === 0, { description: 'the doctor closed its port-forward' });
  });

  test('a NodePort cluster: the NodePort is what a run would use, and both transports answer', async () => {
    await using cluster = await kindCluster({ nodePort: true });
    const run = await cli('doctor', ...kindFlags(cluster), '--json');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    const nodePort = cluster.sim.nodePorts()[0]!.nodePort;
    expect(report).toMatchObject({ ok: true, target: 'kind', transport: { transport: 'nodeport', mode: 'auto', address: `127.0.0.1:${nodePort}` } });
    const links = Object.fromEntries(report.links.map((l: { link: string; status: string; detail: string }) => [l.link, l]));
    expect(links.nodeport).toMatchObject({ status: 'ok', detail: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${nodePort} answers .*; a run uses this$`)) });
    expect(links['port-forward'].status).toBe('ok');
    // Nothing migrated yet: pending is what apply is for, not a failure.
    expect(links.ledger).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^0 applied, \d+ pending \(.*apply applies them\), 0 changed since applied$/) });
    expect(links.partitions.detail).toContain('audit_events comes with pending 0010_audit_events');
  });

  test('does not change the database', async () => {
    await using cluster = await kindCluster();
    const run = await cli('doctor', ...kindFlags(cluster));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await query(cluster.db.connection, "select count(*)::int as n from pg_class where relnamespace = 'public'::regnamespace")).toEqual([{ n: 0 }]);
  });

  test('a forbidden port-forward is named in permissions and port-forward, with the fix; exit 1', async () => {
    await using cluster = await kindCluster();
    cluster.sim.faults.forbidPortForward();
    const run = await cli('doctor', ...kindFlags(cluster));
    expect(run.code).toBe(1);
    expect(line(run, 'permissions')).toMatch(/^FAIL\s+permissions\s+the kubeconfig user may not: create pods\/portforward in kubernaut-system$/);
    expect(run.stdout).toContain('check with `kubectl --context kind-e2e auth can-i create pods --subresource=portforward -n kubernaut-system`');
    expect(line(run, 'port-forward')).toMatch(/^FAIL\s+port-forward\s+port-forward to pod kubernaut-system\/postgresql-\S+:5432 was refused with HTTP 403: pods "postgresql-\S+" is forbidden/);
    expect(line(run, 'login')).toMatch(/^skip\s+login\s+not checked: the port-forward did not work$/);
    expect(run.stdout).toMatch(/a run would fail: 2 links broken\n$/);
  });

  test('a missing Service is named with the Services that exist; what depends on it is skipped', async () => {
    await using cluster = await kindCluster();
    cluster.sim.faults.deleteService();
    const run = await cli('doctor', ...kindFlags(cluster));
    expect(run.code).toBe(1);
    expect(line(run, 'service')).toMatch(/^FAIL\s+service\s+service kubernaut-system\/postgresql not found \(services in kubernaut-system: none\)$/);
    expect(run.stdout).toContain('fix: apply the Postgres manifests');
    expect(statuses(run)).toEqual(expect.arrayContaining(['pod:skip', 'nodeport:skip', 'port-forward:skip', 'login:skip']));
  });

  test('no Ready pod: the pods and their states are named', async () => {
    await using cluster = await kindCluster({ ready: false });
    const run = await cli('doctor', ...kindFlags(cluster));
    expect(run.code).toBe(1);
    expect(line(run, 'pod')).toMatch(/^FAIL\s+pod\s+no Ready pod for service kubernaut-system\/postgresql now \(selector app=postgresql; pods: postgresql-\S+: Running, Ready=False\)$/);
    expect(run.stdout).toContain('fix: see why: `kubectl -n kubernaut-system describe pods -l app=postgresql` (a run waits up to 300000 ms for one)');
  });

  test('a wrong password: the login fails naming host, database and user, never the password', async () => {
    await using cluster = await kindCluster();
    const run = await cli('doctor', ...kindFlags(cluster), '--password', 'not-the-password');
    expect(run.code).toBe(1);
    expect(line(run, 'login')).toMatch(/^FAIL\s+login\s+cannot connect to Postgres at 127\.0\.0\.1:\d+ \(database "kind_\w+", user "postgres"\): login refused for user "postgres" \(wrong password or user\)$/);
    expect(run.stdout).toContain('fix: the password or user is wrong');
    expect(run.stdout + run.stderr).not.toContain('not-the-password');
  });

  test('expired partitions: a database migrated long ago no longer covers this month', async () => {
    await using cluster = await kindCluster();
    await applyMigrations({ ...cluster.options, tables: ['audit_events'], now: new Date('2024-01-15T00:00:00Z'), logger: false });
    const report = await doctor({ ...cluster.options, tables: ['audit_events'], now: new Date('2026-03-10T00:00:00Z'), logger: false });
    expect(report.ok).toBe(false);
    expect(report.links.find((l) => l.link === 'partitions')).toEqual({
      link: 'partitions',
      status: 'fail',
      detail: 'audit_events has no partition for 2026-03, 2026-04, 2026-05, 2026-06 (inserts dated today fail); the horizon is 2026-03 through 2026-06 (monthsAhead 3)',
      fix: 'run `e2e-migrations apply`: it creates the missing months of the window (or raise --months-ahead if the suite writes further ahead)',
    });
    // Migrated with the same clock, the horizon is covered.
    const fresh = await doctor({ ...cluster.options, tables: ['audit_events'], now: new Date('2024-01-20T00:00:00Z'), logger: false });
    expect(fresh.links.find((l) => l.link === 'partitions')).toMatchObject({ status: 'ok', detail: 'audit_events covers 2024-01 through 2024-04 (monthsAhead 3)' });
  });

  test('a URL target: only the links that apply; a changed migration fails the ledger', async () => {
    await using db = await freshDatabase('doctor');
    const fixtures = join(import.meta.dirname, '../migrate/fixtures/kysely-basic');
    const apply = await cli('apply', '--url', db.url, '--migrations', fixtures);
    expect(apply.code, apply.stderr).toBe(0);
    const run = await cli('doctor', '--url', db.url, '--migrations', fixtures);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statuses(run)).toEqual(['migrations:ok', 'target:ok', 'login:ok', 'ledger:ok', 'partitions:skip']);

    await query(db.connection, "update e2e_migration_checksum set checksum = repeat('0', 64) where name = '002_orders'");
    const drifted = await cli('doctor', '--url', db.url, '--migrations', fixtures, '--json');
    expect(drifted.code).toBe(1);
    const ledger = JSON.parse(drifted.stdout).links.find((l: { link: string }) => l.link === 'ledger');
    expect(ledger).toMatchObject({ status: 'fail', detail: expect.stringContaining('002_orders changed after being applied, so apply refuses to run') });
  });

  test('the embedded target: the server starts, the login works, everything is pending by design', async () => {
    const run = await cli('doctor', '--tables', 'audit_events');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statuses(run)).toEqual(['migrations:ok', 'target:ok', 'login:ok', 'ledger:ok', 'partitions:ok']);
    expect(line(run, 'target')).toMatch(/embedded Postgres 16 on 127\.0\.0\.1:\d+ started, and stopped after the check/);
    expect(line(run, 'ledger')).toContain('0 applied, 1 pending (0010_audit_events; apply applies them), 0 changed since applied (a server started empty for this check, as each embedded run does)');
  });

  test('a TLS problem is named as kubectl would, with the command that refreshes the kubeconfig', async () => {
    await using cluster = await kindCluster();
    const other = await createClusterPki({ clusterName: 'e2e', userName: 'kind-e2e', userGroups: ['kubeadm:cluster-admins'] });
    const dir = await mkdtemp(join(tmpdir(), 'doctor-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      const { cert, key } = cluster.sim.clientCert;
      await writeFile(kubeconfig, renderKubeconfig({ contextName: 'kind-e2e', server: cluster.sim.url, caCert: other.ca.cert, clientCert: cert, clientKey: key }));
      const report = await doctor({ kubeconfig, namespace: 'kubernaut-system', logger: false });
      expect(report.links.find((l) => l.link === 'api-server')).toMatchObject({
        status: 'fail',
        detail: `the API server at ${cluster.sim.url} presents a certificate not signed by the CA in the kubeconfig (certificate-authority-data of cluster kind-e2e): x509: certificate signed by unknown authority; if the cluster was recreated, refresh the kubeconfig: \`kind export kubeconfig --name e2e\``,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unreachable API server is explained; everything after it is skipped', async () => {
    await using cluster = await kindCluster();
    // The simulator removes its kubeconfig on close: keep a copy, as a user's file outlives a cluster.
    const dir = await mkdtemp(join(tmpdir(), 'doctor-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, cluster.sim.kubeconfig);
    await cluster.sim.close();
    const run = await cli('doctor', '--kubeconfig', kubeconfig, '-n', 'kubernaut-system').finally(() => rm(dir, { recursive: true, force: true }));
    expect(run.code).toBe(1);
    expect(line(run, 'api-server')).toMatch(/^FAIL\s+api-server\s+nothing listens at https:\/\/127\.0\.0\.1:\d+ \(connection refused\): is the Kind cluster running\?/);
    expect(statuses(run).slice(3)).toEqual(['permissions:skip', 'service:skip', 'pod:skip', 'nodeport:skip', 'port-forward:skip', 'login:skip', 'ledger:skip', 'partitions:skip']);
  });
});
