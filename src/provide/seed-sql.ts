/*
 * The database side of `resetDatabase()`: a schema of our own holding what migrating left in
 * the selected tables (their rows, the values of their sequences), and the functions that
 * capture and restore it. Kept apart from the migrated schema so that `verify`, the catalog
 * comparisons and the ledgers (ours, goose's) never see it, and carried by every clone of an
 * isolation template because it lives inside the template.
 *
 * Why functions in the database rather than queries sent one by one: a reset must be fast
 * (the issue asks for a median ≤ 25 ms) also through a Kind port-forward, where every round
 * trip costs milliseconds. One `select e2e_migrations_seed.reset_v1($1)` is one round trip and
 * one statement, so it is atomic without BEGIN/COMMIT and sees one consistent state while it
 * decides what to empty. Inside the functions identifiers are quoted by Postgres itself
 * (`%I`, `quote_ident`, `regclass` output), the counterpart of `escapeIdentifier`; values
 * arrive as the functions' parameters.
 *
 * The `_v1` suffix is the snapshot's format: a later format gets new names beside these, and
 * a reset that finds none of its version says how to take a new snapshot.
 */

/** The schema holding the snapshot. */
export const SEED_SCHEMA = 'e2e_migrations_seed';

/** Its functions: what `captureSeed` and `resetDatabase` call. */
export const CAPTURE_FUNCTION = `${SEED_SCHEMA}.capture_v1`;
export const RESET_FUNCTION = `${SEED_SCHEMA}.reset_v1`;

/**
 * Set (to 'on', for the statements only) while the reset switches triggers off and on: the
 * watch of a leased database (recycle-sql.ts) does not count those ALTER TABLEs as a change.
 */
export const OWN_DDL_SETTING = 'e2e_migrations.own_ddl';

/** Advisory lock (in the database being captured) serialising captures, which create the schema. */
export const SEED_LOCK_KEY = 'e2e-migrations:seed-snapshot';

/**
 * SQLSTATEs the reset function raises (class "E2" is not used by Postgres), with the relation
 * names in DETAIL, comma-separated, for the client to word the error.
 */
export const SEED_ERRORS = Object.freeze({
  /** Selected relations that the snapshot does not cover. */
  notCaptured: 'E2001',
  /** Tables outside the selection that reference a reset table and hold rows. */
  referencedFromOutside: 'E2002',
  /** Selected names that are no relation of the current schema. */
  unknownRelation: 'E2003',
});

/**
 * Creates the schema and (re)defines the functions; idempotent, run under SEED_LOCK_KEY by every
 * capture, so a database always has the functions of the version that captured last.
 *
 * relations: one row per captured table (by oid: a table dropped and created again — a rollback
 *   and re-apply — is a new table and is captured again; rows of vanished oids are dropped at the
 *   next capture). `copy` names the table in this schema holding its rows; null when it had none.
 * sequences: the value each sequence of a captured table had (owned by a column, or used by a
 *   column default), as `setval` takes it.
 */
export const INSTALL_SQL = `
create schema if not exists ${SEED_SCHEMA};
comment on schema ${SEED_SCHEMA} is 'e2e-migrations: rows and sequence values of the migrated tables as migrating left them, restored by resetDatabase(). Dropping it disables resetDatabase() until the next capture.';
create table if not exists ${SEED_SCHEMA}.relations_v1 (
  relation oid primary key,
  name text not null,
  copy name,
  captured_at timestamptz not null default now()
);
create table if not exists ${SEED_SCHEMA}.sequences_v1 (
  relation oid not null references ${SEED_SCHEMA}.relations_v1 on delete cascade,
  sequence oid not null,
  last_value bigint not null,
  is_called boolean not null,
  primary key (relation, sequence)
);

-- A table and, when it is partitioned, every partition below it; leaves are the relations
-- with storage. (pg_partition_tree alone lists nothing for a table that is not partitioned.)
create or replace function ${SEED_SCHEMA}.tree_v1(rel oid) returns table (relid oid, isleaf boolean)
language sql stable as $tree$
  select t.relid::oid, t.isleaf from pg_catalog.pg_partition_tree(rel) t
  union
  select c.oid, c.relkind = 'r' from pg_catalog.pg_class c where c.oid = rel
$tree$;

create or replace function ${CAPTURE_FUNCTION}(selected text[]) returns jsonb
language plpgsql as $capture$
declare
  ns oid := (select n.oid from pg_catalog.pg_namespace n where n.nspname = pg_catalog.current_schema());
  r record;
  copy_name name;
  has_rows boolean;
  captured text[] := '{}';
  seeded text[] := '{}';
begin
  -- Tables that no longer exist (dropped by a rollback) leave nothing behind.
  for r in
    select s.relation, s.copy from ${SEED_SCHEMA}.relations_v1 s
    where not exists (select 1 from pg_catalog.pg_class c where c.oid = s.relation and c.relkind in ('r', 'p'))
  loop
    if r.copy is not null then
      execute format('drop table if exists ${SEED_SCHEMA}.%I', r.copy);
    end if;
    delete from ${SEED_SCHEMA}.relations_v1 where relation = r.relation;
  end loop;

  -- The first capture of a table wins: later runs on the same database (a URL target) find it
  -- holding what earlier tests wrote, which is not what migrating left.
  for r in
    select c.oid, c.oid::regclass::text as name
    from pg_catalog.pg_class c
    where c.relnamespace = ns and c.relname = any (selected) and c.relkind in ('r', 'p')
      and not exists (select 1 from ${SEED_SCHEMA}.relations_v1 s where s.relation = c.oid)
    order by c.oid
  loop
    execute format('select exists (select 1 from %s)', r.oid::regclass) into has_rows;
    copy_name := null;
    if has_rows then
      copy_name := 'rows_' || r.oid;
      if pg_catalog.to_regclass(format('${SEED_SCHEMA}.%I', copy_name)) is not null then
        execute format('drop table ${SEED_SCHEMA}.%I', copy_name); -- left by a table of the same oid
      end if;
      execute format('create table ${SEED_SCHEMA}.%I as table %s', copy_name, r.oid::regclass);
      seeded := seeded || r.name;
    end if;
    insert into ${SEED_SCHEMA}.relations_v1 (relation, name, copy) values (r.oid, r.name, copy_name);
    insert into ${SEED_SCHEMA}.sequences_v1 (relation, sequence, last_value, is_called)
    select r.oid, q.seqrelid,
           coalesce(pg_catalog.pg_sequence_last_value(q.seqrelid), q.seqstart),
           pg_catalog.pg_sequence_last_value(q.seqrelid) is not null
    from pg_catalog.pg_sequence q
    where q.seqrelid in (
      -- serial and identity columns: the sequence depends on the table
      select d.objid from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass
        and d.refobjid = r.oid and d.deptype in ('a', 'i')
      union
      -- nextval('…') in a column default
      select d.refobjid from pg_catalog.pg_depend d
      join pg_catalog.pg_attrdef ad on d.classid = 'pg_catalog.pg_attrdef'::regclass and d.objid = ad.oid
      where ad.adrelid = r.oid and d.refclassid = 'pg_catalog.pg_class'::regclass
    );
    captured := captured || r.name;
  end loop;
  return jsonb_build_object('captured', to_jsonb(captured), 'seeded', to_jsonb(seeded));
end
$capture$;

-- Back to the snapshot; reset-tables.ts says what that promises. Returns what it did: how it
-- emptied which relations, the tables whose seed rows it inserted again, how many sequences it set.
create or replace function ${RESET_FUNCTION}(selected text[], delete_max_bytes bigint, lock_timeout_ms int) returns jsonb
language plpgsql as $reset$
declare
  ns oid := (select n.oid from pg_catalog.pg_namespace n where n.nspname = pg_catalog.current_schema());
  chosen oid[];
  names text;
  stored_root oid[];
  stored_leaf oid[];
  fk_from oid[];
  fk_to oid[];
  reset oid[] := '{}';
  outside oid[] := '{}';
  added oid[];
  pending oid[];
  ready oid[];
  ordered oid[] := '{}';
  leaves oid[];
  reenable text[] := '{}';
  statement text;
  emptied text[] := '{}';
  method text := 'none';
  restored text[] := '{}';
  sequences int := 0;
  r record;
  same boolean;
  has_rows boolean;
  columns text;
  waits boolean := pg_catalog.current_setting('lock_timeout') = '0';
begin
  -- A transaction left open on a table to reset (by the test itself, say) would make the reset
  -- wait for ever; a bounded wait fails instead, and says so. Unless the caller bounds it already.
  if waits then
    perform pg_catalog.set_config('lock_timeout', lock_timeout_ms || 'ms', true);
  end if;

  -- What to reset: the named relations of the current schema (views and materialized views
  -- have no rows of their own), or, given null, every captured table that still exists.
  if selected is null then
    select coalesce(array_agg(s.relation order by s.relation), '{}') into chosen
    from ${SEED_SCHEMA}.relations_v1 s join pg_catalog.pg_class c on c.oid = s.relation;
  else
    select string_agg(n, ', ' order by n) into names
    from unnest(selected) n
    where not exists (select 1 from pg_catalog.pg_class c where c.relnamespace = ns and c.relname = n);
    if names is not null then
      raise exception 'relations of the selection are missing: %', names using errcode = '${SEED_ERRORS.unknownRelation}', detail = names;
    end if;
    select coalesce(array_agg(c.oid order by c.oid), '{}') into chosen
    from pg_catalog.pg_class c
    where c.relnamespace = ns and c.relname = any (selected) and c.relkind in ('r', 'p');
  end if;

  select string_agg(x::regclass::text, ', ' order by x::regclass::text) into names
  from unnest(chosen) x
  where not exists (select 1 from ${SEED_SCHEMA}.relations_v1 s where s.relation = x);
  if names is not null then
    raise exception 'no snapshot of %', names using errcode = '${SEED_ERRORS.notCaptured}', detail = names;
  end if;

  -- The leaves (plain tables, partitions) with storage: only they can hold rows. Asking is a
  -- stat() each, and a partition never written to has none.
  select coalesce(array_agg(o order by o, t.relid), '{}'), coalesce(array_agg(t.relid order by o, t.relid), '{}')
  into stored_root, stored_leaf
  from unnest(chosen) o, ${SEED_SCHEMA}.tree_v1(o) t
  where t.isleaf and pg_catalog.pg_relation_size(t.relid) > 0;

  -- Which tables differ from the snapshot. One without seed rows, when a leaf with storage has a
  -- row; one with seed rows, when its rows as text are not those of its copy (both read now,
  -- under the caller's settings, so that only the values can differ).
  for r in
    select s.relation, s.copy from ${SEED_SCHEMA}.relations_v1 s where s.relation = any (chosen) order by s.relation
  loop
    if r.copy is null then
      for statement in
        select format('select exists (select 1 from only %s)', x.leaf::regclass)
        from unnest(stored_root, stored_leaf) x(root, leaf) where x.root = r.relation
      loop
        execute statement into has_rows;
        if has_rows then
          reset := reset || r.relation;
          exit;
        end if;
      end loop;
    else
      execute format(
        'select (select string_agg(row(s.*)::text, e''\\n'' order by row(s.*)::text) from %s s) is not distinct from (select string_agg(row(s.*)::text, e''\\n'' order by row(s.*)::text) from ${SEED_SCHEMA}.%I s)',
        r.relation::regclass, r.copy) into same;
      if not same then
        reset := reset || r.relation;
      end if;
    end if;
  end loop;

  if cardinality(reset) > 0 then
    -- Foreign keys between whole tables (a partition's constraint counts for its root).
    select coalesce(array_agg(x.f), '{}'), coalesce(array_agg(x.t), '{}') into fk_from, fk_to
    from (
      select distinct coalesce(pg_catalog.pg_partition_root(con.conrelid), con.conrelid)::oid as f,
                      coalesce(pg_catalog.pg_partition_root(con.confrelid), con.confrelid)::oid as t
      from pg_catalog.pg_constraint con where con.contype = 'f'
    ) x;

    -- A table that references one to be emptied is emptied with it (TRUNCATE insists, and a
    -- DELETE would leave its rows dangling or cascade into them). Those of the selection are
    -- reset too; one outside the selection may only be empty, and is then left as it is.
    loop
      added := array(
        select distinct x.f from unnest(fk_from, fk_to) x(f, t)
        where x.t = any (reset || outside) and x.f <> all (reset || outside)
      );
      exit when cardinality(added) = 0;
      reset := reset || array(select a from unnest(added) a where a = any (chosen));
      outside := outside || array(select a from unnest(added) a where a <> all (chosen));
    end loop;

    names := null;
    for r in
      select t.relid, o as root from unnest(outside) o, ${SEED_SCHEMA}.tree_v1(o) t
      where t.isleaf and pg_catalog.pg_relation_size(t.relid) > 0
    loop
      execute format('select exists (select 1 from only %s)', r.relid::regclass) into has_rows;
      if has_rows then
        names := concat_ws(', ', names, r.root::regclass::text);
      end if;
    end loop;
    if names is not null then
      raise exception 'tables outside the selection reference tables to reset and hold rows: %', names
        using errcode = '${SEED_ERRORS.referencedFromOutside}', detail = names;
    end if;

    -- The tables to reset, each after the tables it references (a cycle is cut anywhere).
    pending := reset;
    while cardinality(pending) > 0 loop
      ready := array(
        select p from unnest(pending) p
        where not exists (select 1 from unnest(fk_from, fk_to) x(f, t) where x.f = p and x.t <> p and x.t = any (pending))
        order by p
      );
      if cardinality(ready) = 0 then
        ready := pending;
      end if;
      ordered := ordered || ready;
      pending := array(select p from unnest(pending) p where p <> all (ready));
    end loop;
  end if;

  -- The leaves to empty, those of referencing tables first.
  leaves := array(
    select x.leaf from unnest(stored_root, stored_leaf) x(root, leaf)
    join unnest(ordered) with ordinality o(relation, position) on o.relation = x.root
    order by o.position desc, x.leaf
  );

  -- How. DELETE, with the tables' own DELETE triggers off for the transaction, takes well under
  -- a millisecond for the few rows a test writes, where TRUNCATE makes a new file for the table
  -- and one for each of its indexes (audit_events has 16): 12–30 ms a partition on the machines
  -- measured (bench/reset.ts). Switching a trigger off takes the table's owner; DELETE obeys
  -- row-level security and rules, and slows down with many rows. So: DELETE when the caller
  -- owns every leaf, none has row security or rules, and none is above delete_max_bytes;
  -- otherwise TRUNCATE, which fires no DELETE trigger either.
  if cardinality(leaves) = 0 then
    null;
  elsif not exists (
    select 1 from unnest(leaves) l join pg_catalog.pg_class c on c.oid = l
    where not pg_catalog.pg_has_role(c.relowner, 'MEMBER') or c.relrowsecurity or c.relhasrules
       or pg_catalog.pg_relation_size(l) > delete_max_bytes
  ) then
    method := 'delete';
    -- Off: the triggers that would fire (enabled, on DELETE, not a constraint's own); back on
    -- as they were (ALWAYS included) before the transaction ends, so no one else sees them off.
    -- Ours, not a change of the schema: said so for the statements' length (see OWN_DDL_SETTING).
    perform pg_catalog.set_config('${OWN_DDL_SETTING}', 'on', true);
    for r in
      select g.tgrelid, g.tgname, g.tgenabled from pg_catalog.pg_trigger g
      where g.tgrelid = any (leaves) and not g.tgisinternal and g.tgenabled in ('O', 'A') and g.tgtype::int & 8 <> 0
      order by g.tgrelid, g.tgname
    loop
      execute format('alter table %s disable trigger %I', r.tgrelid::regclass, r.tgname);
      reenable := reenable || format('alter table %s enable %s trigger %I', r.tgrelid::regclass, case when r.tgenabled = 'A' then 'always' else '' end, r.tgname);
    end loop;
    foreach statement in array array(select format('delete from only %s', l::regclass) from unnest(leaves) with ordinality x(l, i) order by i) loop
      execute statement;
    end loop;
    foreach statement in array reenable loop
      execute statement;
    end loop;
    perform pg_catalog.set_config('${OWN_DDL_SETTING}', 'off', true);
    emptied := array(select l::regclass::text from unnest(leaves) l);
  else
    method := 'truncate';
    -- A plain table is named as it is. A partitioned table names only its leaves with storage,
    -- unless it references a table being truncated: TRUNCATE then wants the constraint's own
    -- table, the parent, which means the whole tree (it refuses ONLY on a partitioned table).
    -- Empty tables outside the selection that reference one are named too, as TRUNCATE wants.
    for r in
      select c.oid, c.relkind,
             exists (select 1 from unnest(fk_from, fk_to) x(f, t) where x.f = c.oid and x.t = any (reset || outside)) as references_reset
      from pg_catalog.pg_class c where c.oid = any (reset || outside) order by c.oid
    loop
      if r.relkind = 'r' then
        emptied := emptied || ('only ' || r.oid::regclass::text);
      elsif r.references_reset or r.oid = any (outside) then
        emptied := emptied || r.oid::regclass::text;
      else
        emptied := emptied || array(
          select 'only ' || x.leaf::regclass::text from unnest(stored_root, stored_leaf) x(root, leaf) where x.root = r.oid order by x.leaf
        );
      end if;
    end loop;
    execute 'truncate table ' || array_to_string(emptied, ', ');
    emptied := array(select regexp_replace(e, '^only ', '') from unnest(emptied) e);
  end if;

  -- Seed rows back, referenced tables first. Insert triggers fire, as they did when the
  -- migration inserted them; generated columns are computed again; identity columns take the
  -- saved values (OVERRIDING SYSTEM VALUE). Columns are matched by name, so a column added
  -- after the snapshot takes its default.
  for r in
    select s.relation, s.copy, cp.oid as copy_oid
    from unnest(ordered) with ordinality o(relation, position)
    join ${SEED_SCHEMA}.relations_v1 s on s.relation = o.relation
    join pg_catalog.pg_class cp on cp.relname = s.copy and cp.relnamespace = '${SEED_SCHEMA}'::regnamespace
    order by o.position
  loop
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into columns
    from pg_catalog.pg_attribute a
    where a.attrelid = r.relation and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      and exists (select 1 from pg_catalog.pg_attribute b where b.attrelid = r.copy_oid and b.attname = a.attname and b.attnum > 0 and not b.attisdropped);
    execute format('insert into %s (%s) overriding system value select %s from ${SEED_SCHEMA}.%I', r.relation::regclass, columns, columns, r.copy);
    restored := restored || r.relation::regclass::text;
  end loop;

  -- Sequences as migrating left them, for every selected table (a test may draw values without
  -- writing a row), set only where they moved.
  for r in
    select q.sequence, q.last_value, q.is_called from ${SEED_SCHEMA}.sequences_v1 q
    where q.relation = any (chosen)
      and pg_catalog.pg_sequence_last_value(q.sequence::regclass) is distinct from (case when q.is_called then q.last_value end)
    order by q.sequence
  loop
    perform pg_catalog.setval(r.sequence::regclass, r.last_value, r.is_called);
    sequences := sequences + 1;
  end loop;

  if waits then
    perform pg_catalog.set_config('lock_timeout', '0', true);
  end if;
  return jsonb_build_object('method', method, 'emptied', to_jsonb(emptied), 'restored', to_jsonb(restored), 'sequences', sequences);
end
$reset$;
`;
