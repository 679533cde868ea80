import { sql, type Kysely } from 'kysely';
import type { MigrationMeta } from '../src/migrate/migration-module.ts';

/**
 * The audit trail every service writes to. Partitioned by month on event_date; the
 * partitions themselves are kept by the engine (`monthlyPartitions`), relative to the run's
 * clock, so that `up` stays the same from one month to the next and no calendar date can
 * outrun them.
 * gen_random_uuid() is built into Postgres 13+, so no extension is needed.
 */
export const meta: MigrationMeta = { tables: ['audit_events'], dependsOn: [], monthlyPartitions: ['audit_events'] };

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('event_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('event_version', 'varchar(10)', (c) => c.notNull().defaultTo('1.0'))
    .addColumn('event_timestamp', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('event_date', 'date', (c) => c.notNull())
    .addColumn('event_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('event_category', 'varchar(50)', (c) => c.notNull())
    .addColumn('event_action', 'varchar(50)', (c) => c.notNull())
    .addColumn('event_outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('correlation_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('parent_event_id', 'uuid')
    .addColumn('parent_event_date', 'date')
    .addColumn('trace_id', 'varchar(255)')
    .addColumn('span_id', 'varchar(255)')
    .addColumn('resource_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource_name', 'varchar(255)')
    .addColumn('namespace', 'varchar(253)')
    .addColumn('cluster_id', 'varchar(255)')
    .addColumn('actor_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('actor_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('actor_ip', sql`inet`)
    .addColumn('severity', 'varchar(20)')
    .addColumn('duration_ms', 'integer')
    .addColumn('error_code', 'varchar(50)')
    .addColumn('error_message', 'text')
    .addColumn('event_data', 'jsonb', (c) => c.notNull())
    .addColumn('event_metadata', 'jsonb')
    .addColumn('retention_days', 'integer', (c) => c.defaultTo(2555))
    .addColumn('is_sensitive', 'boolean', (c) => c.defaultTo(false))
    .addColumn('legal_hold', 'boolean', (c) => c.defaultTo(false))
    .addColumn('legal_hold_reason', 'text')
    .addColumn('legal_hold_placed_by', 'text')
    .addColumn('legal_hold_placed_at', 'timestamptz')
    .addColumn('event_hash', 'text')
    .addColumn('previous_event_hash', 'text')
    .addColumn('hash_algorithm', 'varchar(20)', (c) => c.notNull().defaultTo('sha256-unkeyed'))
    // A partitioned table's primary key must contain the partition key.
    .addPrimaryKeyConstraint('audit_events_pkey', ['event_id', 'event_date'])
    .addCheckConstraint('chk_retention_days_range', sql`retention_days >= 1 and retention_days <= 2555`)
    // No DEFAULT partition, on purpose: a row outside every month must fail, not pile up unseen.
    .modifyEnd(sql`partition by range (event_date)`)
    .execute();

  const index = (name: string) => db.schema.createIndex(name).on('audit_events');
  await index('idx_audit_events_event_timestamp').column('event_timestamp desc').execute();
  await index('idx_audit_events_correlation_id').columns(['correlation_id', 'event_timestamp desc']).execute();
  await index('idx_audit_events_event_type').columns(['event_type', 'event_timestamp desc']).execute();
  await index('idx_audit_events_resource').columns(['resource_type', 'resource_id', 'event_timestamp desc']).execute();
  await index('idx_audit_events_actor').columns(['actor_type', 'actor_id', 'event_timestamp desc']).execute();
  await index('idx_audit_events_outcome').columns(['event_outcome', 'event_timestamp desc']).execute();
  await index('idx_audit_events_event_date').column('event_date').execute();
  await index('idx_audit_events_event_data_gin').using('gin').column('event_data').execute();
  await index('idx_audit_events_cluster_id').column('cluster_id').where(sql<boolean>`cluster_id is not null`).execute();
  await index('idx_audit_events_hash').column('event_hash').where(sql<boolean>`event_hash is not null`).execute();
  await index('idx_audit_events_legal_hold').column('legal_hold').where(sql<boolean>`legal_hold = true`).execute();
  await index('idx_audit_events_effectiveness_correlation')
    .columns(['correlation_id', 'event_timestamp'])
    .where(sql<boolean>`event_category = 'effectiveness'`)
    .execute();
  await index('idx_audit_events_pre_remediation_spec_hash')
    .columns([sql`(event_data ->> 'pre_remediation_spec_hash')`, 'event_timestamp desc'])
    .where(sql<boolean>`(event_data ->> 'pre_remediation_spec_hash') is not null`)
    .execute();
  await index('idx_audit_events_post_remediation_spec_hash')
    .columns([sql`(event_data ->> 'post_remediation_spec_hash')`, 'event_timestamp desc'])
    .where(sql<boolean>`(event_data ->> 'post_remediation_spec_hash') is not null`)
    .execute();
  await index('idx_audit_events_target_resource')
    .columns([sql`(event_data ->> 'target_resource')`, 'event_timestamp desc'])
    .where(sql<boolean>`event_type in ('remediation.workflow_created', 'effectiveness.assessment.completed')`)
    .execute();

  // Rows are routed to a partition before row triggers run, so writers must still send a
  // date in the right month; this only makes event_date agree with the timestamp in UTC.
  await sql`
    create function set_audit_event_date() returns trigger
    language plpgsql as $$
    begin
      new.event_date := (new.event_timestamp at time zone 'UTC')::date;
      return new;
    end
    $$`.execute(db);

  // Compared through jsonb so one loop covers every protected column whatever its type;
  // jsonb equality also ignores key order, so re-serialised event_data is not "a change".
  await sql`
    create function prevent_audit_event_tampering() returns trigger
    language plpgsql as $$
    declare
      protected_column text;
      old_row constant jsonb := to_jsonb(old);
      new_row constant jsonb := to_jsonb(new);
    begin
      foreach protected_column in array array[
        'event_data', 'event_type', 'event_outcome', 'actor_id', 'actor_type',
        'correlation_id', 'event_action', 'resource_type', 'resource_id', 'event_category'
      ] loop
        if old_row -> protected_column is distinct from new_row -> protected_column then
          raise exception 'audit event % is immutable: column % cannot be changed', old.event_id, protected_column
            using errcode = 'check_violation', column = protected_column, table = 'audit_events';
        end if;
      end loop;
      return new;
    end
    $$`.execute(db);

  // The release switch is a session (or SET LOCAL) setting so that only code that means it
  // can lift a hold; current_setting(..., true) is NULL when the setting was never made.
  await sql`
    create function prevent_legal_hold_removal() returns trigger
    language plpgsql as $$
    begin
      if old.legal_hold is true and new.legal_hold is not true
         and current_setting('kubernaut.legal_hold_release', true) is distinct from 'authorized' then
        raise exception 'legal hold on audit event % (correlation_id %) cannot be released', old.event_id, old.correlation_id
          using errcode = 'check_violation', column = 'legal_hold', table = 'audit_events',
                hint = 'set kubernaut.legal_hold_release = ''authorized'' in the releasing transaction';
      end if;
      return new;
    end
    $$`.execute(db);

  await sql`
    create function prevent_legal_hold_deletion() returns trigger
    language plpgsql as $$
    begin
      if old.legal_hold is true then
        raise exception 'audit event under legal hold cannot be deleted: event_id=%, correlation_id=%', old.event_id, old.correlation_id
          using errcode = 'foreign_key_violation', table = 'audit_events',
                hint = 'release the legal hold first';
      end if;
      return old;
    end
    $$`.execute(db);

  // Reads the parent table, not TG_TABLE_NAME: the trigger fires on the partition that holds
  // the row, while children may sit in any month's partition.
  await sql`
    create function prevent_parent_event_deletion() returns trigger
    language plpgsql as $$
    begin
      if exists (
        select 1 from audit_events child
        where child.parent_event_id = old.event_id and child.parent_event_date = old.event_date
      ) then
        raise exception 'audit event is the parent of other events and cannot be deleted: event_id=%, correlation_id=%', old.event_id, old.correlation_id
          using errcode = 'foreign_key_violation', table = 'audit_events',
                hint = 'delete the child events first';
      end if;
      return old;
    end
    $$`.execute(db);

  await sql`create trigger trg_set_audit_event_date before insert on audit_events
    for each row execute function set_audit_event_date()`.execute(db);
  await sql`create trigger enforce_audit_event_immutability before update on audit_events
    for each row execute function prevent_audit_event_tampering()`.execute(db);
  await sql`create trigger enforce_legal_hold_immutability before update on audit_events
    for each row execute function prevent_legal_hold_removal()`.execute(db);
  await sql`create trigger enforce_legal_hold before delete on audit_events
    for each row execute function prevent_legal_hold_deletion()`.execute(db);
  await sql`create trigger enforce_parent_immutability before delete on audit_events
    for each row execute function prevent_parent_event_deletion()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Dropping the table drops its partitions, indexes and triggers with it.
  await db.schema.dropTable('audit_events').execute();
  await sql`drop function prevent_parent_event_deletion()`.execute(db);
  await sql`drop function prevent_legal_hold_deletion()`.execute(db);
  await sql`drop function prevent_legal_hold_removal()`.execute(db);
  await sql`drop function prevent_audit_event_tampering()`.execute(db);
  await sql`drop function set_audit_event_date()`.execute(db);
}
