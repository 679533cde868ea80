import { expect, inject, test } from 'vitest';
import { testDatabase } from 'e2e-migrations/vitest';
import { auditEvent, correlationId } from '../shared/audit-event.ts';

test('Gateway records its audit trail and reads it back in order', async () => {
  expect(inject('e2eMigrations').tables).toContain('audit_events');
  await using db = await testDatabase();
  const correlation = correlationId('gateway');
  await db
    .insertInto('audit_events')
    .values([
      auditEvent('gateway', correlation, { event_type: 'gateway.signal.started', event_timestamp: new Date(Date.now() - 1000) }),
      auditEvent('gateway', correlation, { event_type: 'gateway.signal.completed', duration_ms: 1000 }),
    ])
    .execute();
  const trail = await db
    .selectFrom('audit_events')
    .select(['event_type', 'event_outcome', 'duration_ms'])
    .where('correlation_id', '=', correlation)
    .orderBy('event_timestamp')
    .execute();
  expect(trail).toEqual([
    { event_type: 'gateway.signal.started', event_outcome: 'success', duration_ms: null },
    { event_type: 'gateway.signal.completed', event_outcome: 'success', duration_ms: 1000 },
  ]);
});
