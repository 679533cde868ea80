import { expect, inject } from 'vitest';
import { testDatabase } from 'e2e-migrations/vitest';
import { auditEvent, correlationId } from './audit-event.ts';

/**
 * What every audit-emitting service checks: it can write a start and an end event of one
 * operation to audit_events and read them back in order. Each service names its own events.
 */
export async function expectAuditTrail(service: string, operation: string): Promise<void> {
  expect(inject('e2eMigrations').tables).toContain('audit_events');
  await using db = await testDatabase();
  const correlation = correlationId(service);
  await db
    .insertInto('audit_events')
    .values([
      auditEvent(service, correlation, { event_type: `${service}.${operation}.started`, event_timestamp: new Date(Date.now() - 1000) }),
      auditEvent(service, correlation, { event_type: `${service}.${operation}.completed`, duration_ms: 1000 }),
    ])
    .execute();
  const trail = await db
    .selectFrom('audit_events')
    .select(['event_type', 'event_outcome', 'duration_ms'])
    .where('correlation_id', '=', correlation)
    .orderBy('event_timestamp')
    .execute();
  expect(trail).toEqual([
    { event_type: `${service}.${operation}.started`, event_outcome: 'success', duration_ms: null },
    { event_type: `${service}.${operation}.completed`, event_outcome: 'success', duration_ms: 1000 },
  ]);
}
