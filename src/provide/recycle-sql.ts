import { OWN_DDL_SETTING, RESET_FUNCTION, SEED_SCHEMA } from './seed-sql.ts';

/*
 * The database side of recycling a test file's database (database-leases.ts): instead of
 * dropping a copy of the template when its file ends and copying the template again for the
 * next file (~20–90 ms of the server's work each, on the run's critical path when cores are
 * few), the copy is put back as migrating left it — the seed snapshot's reset, a few
 * milliseconds — and leased to the next file. That is only sound when the file changed rows
 * and nothing else, so each leased database carries a watch that notes every schema change.
 * A database with any change the reset cannot undo is never leased again: it is dropped.
 *
 * What the watch sees, and why it is enough:
 *  - every DDL command (CREATE/ALTER/DROP/COMMENT/GRANT, REFRESH MATERIALIZED VIEW, temporary
 *    tables included) through an event trigger fired at ddl_command_start, ENABLE ALWAYS so
 *    that `session_replication_role = replica` does not hide it; a change rolled back is not
 *    noted, as it left nothing;
 *  - what event triggers do not see: ALTER DATABASE (its settings, owner, connection limit, …), large objects,
 *    prepared transactions, checked when the file ends;
 *  - connections the file left open, which could write after the reset.
 * Event triggers need a superuser, which every target of ours has in practice (the embedded
 * server, postgres:16 in Kind with POSTGRES_USER); without one, each file gets a fresh copy.
 *
 * The notes name the database they were taken in, so the template (migrated again while a
 * copy holds notes, say) never hands notes to its copies. Inside the functions identifiers
 * are fixed names of ours; the only values arrive as parameters.
 */

/**
 * What ALTER DATABASE can change of a database's own row (owner, connection limit, whether it
 * takes connections, is a template, its tablespace), as text: compared with its value when
 * the copy was made.
 */
const DATABASE_ROW = `(select row(d.datdba, d.datconnlimit, d.datallowconn, d.datistemplate, d.dattablespace)::text
  from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())`;

/** The event trigger each leased database gets. */
export const WATCH_TRIGGER = 'e2e_migrations_ddl_v1';

/** What the end of a file calls, on the leased database: see RECYCLE_SQL. */
export const RECYCLE_FUNCTION = `${SEED_SCHEMA}.recycle_v1`;

/**
 * Run once per leased database, right after it was copied (or taken from the spares) and
 * before any test sees it; idempotent. Needs the seed snapshot's schema (taken in the template) and a superuser.
 */
export const INSTALL_WATCH_SQL = `
-- A spare an earlier run kept has the watch already: installing again is ours, not a change.
-- (One query string is one transaction: the setting lasts until it ends.)
select pg_catalog.set_config('${OWN_DDL_SETTING}', 'on', true);
create table if not exists ${SEED_SCHEMA}.ddl_v1 (
  datname name not null,
  tag text not null,
  noted_at timestamptz not null default pg_catalog.now()
);
-- As the copy was made: what a file could change outside the event trigger's sight.
create table if not exists ${SEED_SCHEMA}.watch_v1 (large_objects bigint not null, database text not null);
insert into ${SEED_SCHEMA}.watch_v1 (large_objects, database)
select (select pg_catalog.count(*) from pg_catalog.pg_largeobject_metadata), ${DATABASE_ROW}
where not exists (select 1 from ${SEED_SCHEMA}.watch_v1);

-- Security definer: the test's role may not write our schema. The reset's own ALTER TABLE …
-- DISABLE/ENABLE TRIGGER (resetDatabase() in a test, or the reset between files) says so
-- through ${OWN_DDL_SETTING} and is not a change.
create or replace function ${SEED_SCHEMA}.note_ddl_v1() returns event_trigger
language plpgsql security definer set search_path = pg_catalog as $note$
begin
  if pg_catalog.current_setting('${OWN_DDL_SETTING}', true) is distinct from 'on' then
    insert into ${SEED_SCHEMA}.ddl_v1 (datname, tag) values (pg_catalog.current_database(), tg_tag);
  end if;
end
$note$;


-- Returns {"changed": "<what>"} when the database cannot be put back (with "open": true when
-- that is connections still open to it), else the reset's result.
create or replace function ${RECYCLE_FUNCTION}(delete_max_bytes bigint, lock_timeout_ms int) returns jsonb
language plpgsql as $recycle$
declare
  changes text;
begin
  -- Connections the file closed may take a few milliseconds to be gone; one still open after
  -- that belongs to code the file left running (a pool never ended). It is not ended here:
  -- its owner may be a worker that runs on (Jest), and would see an error it never asked
  -- for. The database is not put back instead; teardown drops it.
  for i in 1..50 loop
    perform pg_catalog.pg_stat_clear_snapshot();
    exit when not exists (
      select 1 from pg_catalog.pg_stat_activity a
      where a.datname = pg_catalog.current_database() and a.pid <> pg_catalog.pg_backend_pid()
    );
    perform pg_catalog.pg_sleep(0.005);
  end loop;
  if exists (
    select 1 from pg_catalog.pg_stat_activity a
    where a.datname = pg_catalog.current_database() and a.pid <> pg_catalog.pg_backend_pid()
  ) then
    return pg_catalog.jsonb_build_object('changed', 'connections left open', 'open', true);
  end if;

  select pg_catalog.string_agg(distinct d.tag, ', ' order by d.tag) into changes
  from ${SEED_SCHEMA}.ddl_v1 d where d.datname = pg_catalog.current_database();
  if changes is null and (exists (
    select 1 from pg_catalog.pg_db_role_setting s join pg_catalog.pg_database b on b.oid = s.setdatabase
    where b.datname = pg_catalog.current_database()
  ) or ${DATABASE_ROW} <> (select w.database from ${SEED_SCHEMA}.watch_v1 w)) then
    changes := 'ALTER DATABASE';
  end if;
  if changes is null and (select pg_catalog.count(*) from pg_catalog.pg_largeobject_metadata) <> (select w.large_objects from ${SEED_SCHEMA}.watch_v1 w) then
    changes := 'large objects';
  end if;
  if changes is null and exists (select 1 from pg_catalog.pg_prepared_xacts p where p.database = pg_catalog.current_database()) then
    changes := 'a prepared transaction';
  end if;
  if changes is not null then
    return pg_catalog.jsonb_build_object('changed', changes);
  end if;

  return ${RESET_FUNCTION}(null, delete_max_bytes, lock_timeout_ms);
end
$recycle$;

-- Last: everything above is ours, not a change a file made.
do $install$
begin
  if not exists (select 1 from pg_catalog.pg_event_trigger where evtname = '${WATCH_TRIGGER}') then
    create event trigger ${WATCH_TRIGGER} on ddl_command_start execute function ${SEED_SCHEMA}.note_ddl_v1();
    alter event trigger ${WATCH_TRIGGER} enable always;
  end if;
end
$install$;
`;

/**
 * Whether a run's databases can be recycled, asked once of the first copy: a superuser (event
 * triggers may only be made by one) and the seed snapshot with its reset.
 */
export const RECYCLE_PREREQUISITES_SQL = `
select (select r.rolsuper from pg_catalog.pg_roles r where r.rolname = current_user) as superuser,
       pg_catalog.to_regprocedure('${RESET_FUNCTION}(text[],bigint,integer)') is not null as reset
`;

/**
 * Then, the tables the snapshot does not cover, the ledgers aside ($1): their rows would
 * outlive the file, so any makes the run's databases single-use.
 */
export const UNCOVERED_TABLES_SQL = `
select c.oid::regclass::text as name
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname not in ('pg_catalog', 'information_schema', '${SEED_SCHEMA}')
  and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
  and not (c.relname = any ($1::text[]))
  and not exists (select 1 from ${SEED_SCHEMA}.relations_v1 s where s.relation = c.oid)
order by 1
`;
