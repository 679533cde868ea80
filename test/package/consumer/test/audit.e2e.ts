import { beforeEach, inject, test, expect } from 'vitest';
import { resetDatabase, testDatabase } from 'e2e-migrations/vitest';

beforeEach(() => resetDatabase()); // each test starts from the just-migrated tables

test('Gateway writes an audit event and reads it back', async () => {
  expect(inject('e2eMigrations').tables).toContain('audit_events');
  await using db = await testDatabase(); // Kysely<Database>, typed by the shipped schema
  const { event_id } = await db
    .insertInto('audit_events')
    .values({
      event_date: new Date().toISOString().slice(0, 10),
      event_type: 'gateway.signal.received',
      event_category: 'gateway',
      event_action: 'receive',
      event_outcome: 'success',
      correlation_id: 'rr-123',
      resource_type: 'Signal',
      resource_id: 'sig-1',
      actor_type: 'service',
      actor_id: 'gateway',
      event_data: { fingerprint: 'abc' },
    })
    .returning('event_id')
    .executeTakeFirstOrThrow();
  const row = await db.selectFrom('audit_events').select(['event_type', 'event_data']).where('event_id', '=', event_id).executeTakeFirstOrThrow();
  expect(row).toEqual({ event_type: 'gateway.signal.received', event_data: { fingerprint: 'abc' } });
});
