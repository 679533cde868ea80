const pg = require('pg');

test('Notification records a delivery', async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(
      `insert into notification_audit (remediation_id, notification_id, recipient, channel, message_summary, status, sent_at)
       values ('rr-1', 'n-1', 'oncall', 'slack', 'pod restarted', 'sent', now())`,
    );
    const { rows } = await client.query('select channel, status from notification_audit');
    expect(rows).toEqual([{ channel: 'slack', status: 'sent' }]);
  } finally {
    await client.end();
  }
});
