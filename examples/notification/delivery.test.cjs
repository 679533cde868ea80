const { randomUUID } = require('node:crypto');
const pg = require('pg');

// The connection comes through process.env: DATABASE_URL and E2E_MIGRATIONS_*.
let client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
});
afterAll(() => client.end());

test('the database was prepared for audit_events', () => {
  expect(process.env.E2E_MIGRATIONS_TABLES.split(',')).toContain('audit_events');
});

test('Notification audits a delivery and its retry, and reads them back in order', async () => {
  const correlation = `notification-${randomUUID()}`;
  const insert = (type, outcome, attempt) =>
    client.query(
      `insert into audit_events (event_date, event_timestamp, event_type, event_category, event_action, event_outcome,
         correlation_id, resource_type, resource_id, actor_type, actor_id, event_data)
       values (current_date, now() + make_interval(secs => $4), $1, 'notification', 'deliver', $2, $3,
         'NotificationRequest', $3, 'service', 'notification', $5)`,
      [type, outcome, correlation, attempt, { channel: 'slack', attempt }],
    );
  await insert('notification.delivery.failed', 'failure', 1);
  await insert('notification.delivery.sent', 'success', 2);
  const { rows } = await client.query(
    `select event_type, event_outcome, event_data->>'attempt' as attempt from audit_events where correlation_id = $1 order by event_timestamp`,
    [correlation],
  );
  expect(rows).toEqual([
    { event_type: 'notification.delivery.failed', event_outcome: 'failure', attempt: '1' },
    { event_type: 'notification.delivery.sent', event_outcome: 'success', attempt: '2' },
  ]);
});
