import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Database } from 'e2e-migrations/vitest';

/** A unique correlation id: services share one database under `npm start`. */
export function correlationId(service: string): string {
  return `${service}-${randomUUID()}`;
}

/**
 * An audit event as a service would write it. `event_date` is the partition key of
 * audit_events (monthly partitions): it must be set, and today's month always has one.
 */
export function auditEvent(service: string, correlation: string, fields: Partial<Insertable<Database['audit_events']>> = {}): Insertable<Database['audit_events']> {
  return {
    event_date: new Date().toISOString().slice(0, 10),
    event_type: `${service}.test.event`,
    event_category: service,
    event_action: 'test',
    event_outcome: 'success',
    correlation_id: correlation,
    resource_type: 'RemediationRequest',
    resource_id: correlation,
    actor_type: 'service',
    actor_id: service,
    event_data: { service },
    ...fields,
  };
}
