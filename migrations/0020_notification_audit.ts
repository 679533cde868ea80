import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/** Delivery record of every notification the Notification service sends. */
export const meta: MigrationMeta = { tables: ['notification_audit'], dependsOn: [] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('remediation_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('notification_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('recipient', 'varchar(255)', (c) => c.notNull())
    .addColumn('channel', 'varchar(50)', (c) =>
      c.notNull().check(sql`channel in ('slack', 'pagerduty', 'teams', 'console', 'file', 'log')`),
    )
    .addColumn('message_summary', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(50)', (c) =>
      c.notNull().check(sql`status in ('sent', 'failed', 'acknowledged', 'escalated')`),
    )
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .addColumn('delivery_status', 'text')
    .addColumn('error_message', 'text')
    .addColumn('escalation_level', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('notification_audit');
  await index('idx_notification_audit_remediation_id').column('remediation_id').execute();
  await index('idx_notification_audit_notification_id').column('notification_id').execute();
  await index('idx_notification_audit_channel').column('channel').execute();
  await index('idx_notification_audit_status').column('status').execute();
  await index('idx_notification_audit_created_at').column('created_at desc').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_audit').execute();
}
