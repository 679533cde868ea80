import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT, run } from './run-runner.ts';

test('npm start: services in parallel on one embedded Postgres, each migration applied once, a per-service report', async () => {
  const result = await run([join(ROOT, 'examples/run-all.ts'), 'gateway', 'notification', 'ai-analysis', 'signal-processing'], { timeoutMs: 120_000 });
  expect(result.code, result.output).toBe(0);
  const rows = Object.fromEntries(
    result.output
      .split('\n')
      .filter((line) => /^(Gateway|Notification|AIAnalysis|SignalProcessing)\s/.test(line))
      .map((line) => [line.split(/\s+/)[0], line]),
  );
  expect(Object.keys(rows).sort()).toEqual(['AIAnalysis', 'Gateway', 'Notification', 'SignalProcessing']);
  expect(rows.Notification).toMatch(/\bjest\s+audit_events\s/);
  expect(rows.AIAnalysis).toMatch(/audit_events, action_type_taxonomy, remediation_workflow_catalog\s+\d+\s+\d+\s/);
  for (const row of Object.values(rows)) expect(row).toMatch(/\d+ passed\s+0$/);
  // audit_events + taxonomy + catalog + the uuid-ossp extension the catalog needs: 5 migrations in all.
  expect(result.output).toContain('Ledger: 5 migrations; applied by this run: 5 — each exactly once');
  expect(result.output).toContain('All 4 services passed.');
  expect(result.output).not.toContain('test_password');
});

test('an unknown service is a usage error', async () => {
  const result = await run([join(ROOT, 'examples/run-all.ts'), 'billing']);
  expect(result.code).toBe(2);
  expect(result.output).toContain('no such service: billing');
});
