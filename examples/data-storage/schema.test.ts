import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, inject, test } from 'vitest';
import { testDatabase } from 'e2e-migrations/vitest';
import { auditEvent, correlationId } from '../shared/audit-event.ts';

test('every relation of the DS schema is there', async () => {
  const { tables } = inject('e2eMigrations');
  await using db = await testDatabase();
  const { rows } = await sql<{ name: string }>`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relname = any(${[...tables]}::text[]) and c.relkind in ('r', 'p', 'v')`.execute(db);
  expect(rows.map((r) => r.name).sort()).toEqual([...tables].sort());
  expect(tables).toEqual(expect.arrayContaining(['audit_events', 'notification_audit', 'remediation_workflow_catalog', 'resource_references', 'oscillation_detection_summary']));
});

test('DataStorage writes across its tables and reads them back', async () => {
  await using db = await testDatabase();
  const correlation = correlationId('datastorage');
  await db.insertInto('audit_events').values(auditEvent('datastorage', correlation, { event_type: 'datastorage.batch.written' })).execute();
  await db
    .insertInto('notification_audit')
    .values({ remediation_id: correlation, notification_id: randomUUID(), recipient: 'oncall@example.com', channel: 'slack', message_summary: 'pod restarted', status: 'sent', sent_at: new Date() })
    .execute();
  await db
    .insertInto('resource_references')
    .values({ resource_uid: randomUUID(), api_version: 'apps/v1', kind: 'Deployment', name: 'checkout', namespace: 'shop' })
    .execute();

  const notification = await db.selectFrom('notification_audit').select(['channel', 'escalation_level']).where('remediation_id', '=', correlation).executeTakeFirstOrThrow();
  expect(notification).toEqual({ channel: 'slack', escalation_level: 0 });
  const audit = await db.selectFrom('audit_events').select(['event_type', 'hash_algorithm']).where('correlation_id', '=', correlation).executeTakeFirstOrThrow();
  expect(audit.event_type).toBe('datastorage.batch.written');
});
