import { expect, inject, test } from 'vitest';
import { testDatabase } from 'e2e-migrations/vitest';
import { auditEvent, correlationId } from '../shared/audit-event.ts';

test('SignalProcessing records its audit trail and reads it back in order', async () => {
  expect(inject('e2eMigrations').tables).toContain('audit_events');
  await using db = await testDatabase();
  const correlation = correlationId('signalprocessing');
  await db
    .insertInto('audit_events')
    .values([
      auditEvent('signalprocessing', correlation, { event_type: 'signalprocessing.enrichment.started', event_timestamp: new Date(Date.now() - 1000) }),
      auditEvent('signalprocessing', correlation, { event_type: 'signalprocessing.enrichment.completed', duration_ms: 1000 }),
    ])
    .execute();
  const trail = await db
    .selectFrom('audit_events')
    .select(['event_type', 'event_outcome', 'duration_ms'])
    .where('correlation_id', '=', correlation)
    .orderBy('event_timestamp')
    .execute();
  expect(trail).toEqual([
    { event_type: 'signalprocessing.enrichment.started', event_outcome: 'success', duration_ms: null },
    { event_type: 'signalprocessing.enrichment.completed', event_outcome: 'success', duration_ms: 1000 },
  ]);
});
