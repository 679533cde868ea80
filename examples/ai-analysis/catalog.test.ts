import { randomUUID } from 'node:crypto';
import { expect, inject, test } from 'vitest';
import { testDatabase } from 'e2e-migrations/vitest';
import { auditEvent, correlationId } from '../shared/audit-event.ts';

test('the dependency of the catalog came along', () => {
  expect([...inject('e2eMigrations').tables].sort()).toEqual(expect.arrayContaining(['action_type_taxonomy', 'audit_events', 'remediation_workflow_catalog']));
});

test('AIAnalysis picks the latest active workflow for an action type and audits the recommendation', async () => {
  await using db = await testDatabase();
  const actionType = `RestartPod-${randomUUID().slice(0, 8)}`;
  await db.insertInto('action_type_taxonomy').values({ action_type: actionType, description: { what: 'restart the pod' } }).execute();
  await db
    .insertInto('remediation_workflow_catalog')
    .values([
      { workflow_name: `${actionType}-wf`, version: '1.0.0', name: 'Restart pod', content: 'steps: []', content_hash: 'a'.repeat(64), action_type: actionType, status: 'Superseded' },
      { workflow_name: `${actionType}-wf`, version: '1.1.0', name: 'Restart pod', content: 'steps: [restart]', content_hash: 'b'.repeat(64), action_type: actionType, is_latest_version: true, labels: { severity: 'critical' } },
    ])
    .execute();

  const chosen = await db
    .selectFrom('remediation_workflow_catalog as w')
    .innerJoin('action_type_taxonomy as t', 't.action_type', 'w.action_type')
    .select(['w.workflow_id', 'w.version', 'w.labels', 't.status as taxonomy_status'])
    .where('w.action_type', '=', actionType)
    .where('w.status', '=', 'Active')
    .where('w.is_latest_version', '=', true)
    .executeTakeFirstOrThrow();
  expect(chosen).toMatchObject({ version: '1.1.0', labels: { severity: 'critical' }, taxonomy_status: 'Active' });

  const correlation = correlationId('aianalysis');
  await db.insertInto('audit_events').values(auditEvent('aianalysis', correlation, { event_type: 'aianalysis.workflow.selected', event_data: { workflow_id: chosen.workflow_id } })).execute();
  const audit = await db.selectFrom('audit_events').select('event_data').where('correlation_id', '=', correlation).executeTakeFirstOrThrow();
  expect(audit.event_data).toEqual({ workflow_id: chosen.workflow_id });
});

test('the catalog refuses a workflow for an unknown action type', async () => {
  await using db = await testDatabase();
  await expect(
    db.insertInto('remediation_workflow_catalog').values({ workflow_name: 'orphan', version: '1', name: 'x', content: '', content_hash: 'c'.repeat(64), action_type: `unknown-${randomUUID()}` }).execute(),
  ).rejects.toThrow(/fk_workflow_action_type/);
});
