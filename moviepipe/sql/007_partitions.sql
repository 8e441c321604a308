-- Monthly RANGE partitions for the event landing tables (docs/scaling.md):
-- raw.user_events and raw.user_events_fallback by event_ts, raw.user_events_rejected by
-- kafka_timestamp. A unique key on a partitioned table must contain the partition key, so
-- the idempotency key becomes (event_id, event_ts): the same event_id always carries the
-- same event_ts, so it stays unique across partitions.
--
-- Each table: rename the old one (and its indexes and sequence, whose names the new one
-- takes), create the partitioned parent with the same columns, grants and owner, a DEFAULT
-- partition (rows of a month not created yet land there instead of failing; creating the
-- month moves them out), the months the data needs, then copy every row and drop the old
-- table. The runner applies this file once, in one transaction.

-- Months: one partition per calendar month in UTC, named <table>_pYYYYMM, created on
-- demand under an advisory lock, idempotently. SECURITY DEFINER because only the owner of
-- a table may add partitions to it; the loader calls it before each batch.
create or replace function raw.ensure_month_partitions(
    parent regclass, lo timestamptz, hi timestamptz
) returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
declare
    schema_name text;
    base text;
    key_column text;
    default_part regclass;
    month_start timestamptz;
    month_end timestamptz;
    child text;
    stash text;
    created integer := 0;
begin
    select n.nspname, c.relname into schema_name, base
    from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
    where c.oid = parent and c.relkind = 'p';
    if not found then
        raise exception '% is not a partitioned table', parent;
    end if;
    if lo is null or hi is null or lo > hi then
        return 0;
    end if;
    select a.attname into key_column
    from pg_partitioned_table as p
    inner join pg_attribute as a on p.partrelid = a.attrelid and a.attnum = p.partattrs[0]
    where p.partrelid = parent;
    select i.inhrelid::regclass into default_part
    from pg_inherits as i inner join pg_partitioned_table as p on i.inhparent = p.partrelid
    where i.inhparent = parent and i.inhrelid = p.partdefid;
    -- One creator per parent at a time; a second caller then finds the month made.
    perform pg_advisory_xact_lock(7420007, parent::oid::integer);
    month_start := date_trunc('month', lo);
    while month_start <= hi loop
        month_end := month_start + interval '1 month';
        child := format('%s_p%s', base, to_char(month_start, 'YYYYMM'));
        if to_regclass(format('%I.%I', schema_name, child)) is null then
            stash := null;
            if default_part is not null then
                -- The new month's rows waiting in the default partition move into it
                -- (PostgreSQL refuses the new partition while the default holds them).
                stash := format('ensure_%s_%s', parent::oid, to_char(month_start, 'YYYYMM'));
                execute format('create temp table %I (like %s) on commit drop', stash, parent);
                execute format(
                    'with moved as (delete from %s where %I >= $1 and %I < $2 returning *)'
                    ' insert into pg_temp.%I select * from moved',
                    default_part, key_column, key_column, stash
                ) using month_start, month_end;
            end if;
            execute format(
                'create table %I.%I partition of %s for values from (%L) to (%L)',
                schema_name, child, parent, month_start, month_end
            );
            if stash is not null then
                execute format(
                    'insert into %s overriding system value select * from pg_temp.%I',
                    parent, stash
                );
                execute format('drop table pg_temp.%I', stash);
            end if;
            created := created + 1;
        end if;
        month_start := month_end;
    end loop;
    return created;
end;
$$;

-- Every month that has a row in the default partition gets its own partition.
create or replace function raw.drain_default_partition(parent regclass)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $$
declare
    default_part oid;
    key_column text;
    month_start timestamptz;
    created integer := 0;
begin
    select p.partdefid, a.attname into default_part, key_column
    from pg_partitioned_table as p
    inner join pg_attribute as a on p.partrelid = a.attrelid and a.attnum = p.partattrs[0]
    where p.partrelid = parent;
    if default_part is null or default_part = 0 then
        return 0;
    end if;
    for month_start in execute format(
        'select distinct date_trunc(''month'', %I) from %s', key_column, default_part::regclass
    ) loop
        created := created + raw.ensure_month_partitions(parent, month_start, month_start);
    end loop;
    return created;
end;
$$;

revoke all on function raw.ensure_month_partitions(regclass, timestamptz, timestamptz) from public;
revoke all on function raw.drain_default_partition(regclass) from public;

-- The old table's privileges, granted again on the new one (bootstrap's grants and the
-- default privileges give the same, but a grant made by hand survives too).
create function pg_temp.copy_grants(source regclass, target regclass) returns void
language plpgsql as $$
declare
    g record;
    is_sequence boolean := (select relkind = 'S' from pg_class where oid = source);
begin
    for g in
        select a.privilege_type, a.is_grantable,
            case when a.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(a.grantee)) end
                as grantee
        from pg_class as c, aclexplode(c.relacl) as a
        where c.oid = source and a.grantee <> c.relowner
    loop
        execute format(
            'grant %s on %s %s to %s%s', g.privilege_type,
            case when is_sequence then 'sequence' else 'table' end, target, g.grantee,
            case when g.is_grantable then ' with grant option' else '' end
        );
    end loop;
    if is_sequence then
        return;  -- an identity sequence belongs to its table's owner
    end if;
    execute format(
        'alter table %s owner to %I', target,
        (select pg_get_userbyid(relowner) from pg_class where oid = source)
    );
end;
$$;

-- The months the old rows need, plus this month and the next three (from then on the
-- loader creates months ahead itself: the partitions.months_ahead tunable).
create function pg_temp.add_months(parent regclass, old regclass, key_column text)
returns void
language plpgsql as $$
declare
    month_start timestamptz;
begin
    for month_start in execute format(
        'select distinct date_trunc(''month'', %I, ''UTC'') from %s', key_column, old
    ) loop
        perform raw.ensure_month_partitions(parent, month_start, month_start);
    end loop;
    perform raw.ensure_month_partitions(parent, now(), now() + interval '3 months');
end;
$$;

-- raw.user_events ----------------------------------------------------------------------
alter table raw.user_events rename to user_events_old;
alter index raw.user_events_pkey rename to user_events_old_pkey;
alter index raw.user_events_ingested_idx rename to user_events_old_ingested_idx;

create table raw.user_events (
    like raw.user_events_old including defaults,
    primary key (event_id, event_ts)
) partition by range (event_ts);
create table raw.user_events_default partition of raw.user_events default;
create index user_events_ingested_idx on raw.user_events (ingested_at);
select pg_temp.copy_grants('raw.user_events_old', 'raw.user_events');
select pg_temp.add_months('raw.user_events', 'raw.user_events_old', 'event_ts');
insert into raw.user_events select * from raw.user_events_old;
drop table raw.user_events_old;

-- raw.user_events_fallback -------------------------------------------------------------
alter table raw.user_events_fallback rename to user_events_fallback_old;
alter index raw.user_events_fallback_pkey rename to user_events_fallback_old_pkey;
alter index raw.user_events_fallback_run_idx rename to user_events_fallback_old_run_idx;

create table raw.user_events_fallback (
    like raw.user_events_fallback_old including defaults,
    primary key (event_id, event_ts)
) partition by range (event_ts);
create table raw.user_events_fallback_default partition of raw.user_events_fallback default;
create index user_events_fallback_run_idx on raw.user_events_fallback (run_id);
select pg_temp.copy_grants('raw.user_events_fallback_old', 'raw.user_events_fallback');
select pg_temp.add_months('raw.user_events_fallback', 'raw.user_events_fallback_old', 'event_ts');
insert into raw.user_events_fallback select * from raw.user_events_fallback_old;
drop table raw.user_events_fallback_old;

-- raw.user_events_rejected -------------------------------------------------------------
-- kafka_timestamp becomes the partition key, not null: an old row without one takes its
-- rejected_at. kafka_partition and kafka_offset become nullable (a dead letter that never
-- went through Kafka has no coordinates). The unique key keeps nulls distinct: a
-- re-inserted Kafka reject (coordinates set) still conflicts, and two coordinate-less
-- rejects received at the same instant are not merged.
alter table raw.user_events_rejected rename to user_events_rejected_old;
alter index raw.user_events_rejected_pkey rename to user_events_rejected_old_pkey;
alter index raw.user_events_rejected_kafka_topic_kafka_partition_kafka_offs_key
rename to user_events_rejected_old_coordinates_key;
alter sequence raw.user_events_rejected_rejected_id_seq
rename to user_events_rejected_old_rejected_id_seq;

create table raw.user_events_rejected (
    rejected_id bigint generated always as identity,
    kafka_topic text not null,
    kafka_partition integer,
    kafka_offset bigint,
    kafka_timestamp timestamptz not null default now(),
    raw_key bytea,
    raw_value bytea,
    reason text not null,
    reason_detail text,
    rejected_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null,
    primary key (rejected_id, kafka_timestamp),
    constraint user_events_rejected_coordinates_key
    unique (kafka_topic, kafka_partition, kafka_offset, source_flag, kafka_timestamp)
) partition by range (kafka_timestamp);
create table raw.user_events_rejected_default partition of raw.user_events_rejected default;
select pg_temp.copy_grants('raw.user_events_rejected_old', 'raw.user_events_rejected');
select pg_temp.copy_grants(
    'raw.user_events_rejected_old_rejected_id_seq',
    pg_get_serial_sequence('raw.user_events_rejected', 'rejected_id')::regclass
);
select pg_temp.add_months(
    'raw.user_events_rejected', 'raw.user_events_rejected_old',
    'kafka_timestamp'
);
insert into raw.user_events_rejected overriding system value
select
    rejected_id, kafka_topic, kafka_partition, kafka_offset,
    coalesce(kafka_timestamp, rejected_at), raw_key, raw_value, reason, reason_detail,
    rejected_at, run_id, source_flag
from raw.user_events_rejected_old;
select setval(
    pg_get_serial_sequence('raw.user_events_rejected', 'rejected_id'),
    greatest(
        (select last_value from raw.user_events_rejected_old_rejected_id_seq),
        (select max(rejected_id) from raw.user_events_rejected_old), 1
    )
);
drop table raw.user_events_rejected_old;
-- Old rejects without a kafka_timestamp took rejected_at: their months too.
select raw.drain_default_partition('raw.user_events_rejected');

-- What `moviepipe retention apply` did: one row per partition dropped or archived.
create table if not exists ops.retention_log (
    retention_id bigint generated always as identity primary key,
    run_id text not null,
    parent_table text not null,          -- e.g. 'raw.user_events'
    partition_name text not null,        -- e.g. 'raw.user_events_p202401'
    range_from timestamptz not null,
    range_to timestamptz not null,
    row_count bigint not null,
    action text not null check (action in ('dropped', 'archived')),
    archive_path text,                   -- the gzipped CSV, for 'archived'
    applied_at timestamptz not null default now()
);
create index if not exists retention_log_run_idx on ops.retention_log (run_id);
