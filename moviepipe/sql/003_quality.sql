-- Quality gates and write-audit-publish bookkeeping (quality/, docs/quality.md).
-- dbt builds gold into gold_build; a passing gate renames gold -> gold_previous and
-- gold_build -> gold in one transaction; the old previous becomes the next build target.

create schema if not exists gold_build;
create schema if not exists gold_previous;
revoke all on schema gold_build from public;
revoke all on schema gold_previous from public;

alter table ops.quality_results
    add column if not exists suite text,
    add column if not exists failed_expectations jsonb not null default '[]'::jsonb,
    add column if not exists data_docs text;

-- One row per publish or rollback; the schemas' OIDs identify the physical versions.
create table if not exists ops.publish_log (
    publish_id bigint generated always as identity primary key,
    run_id text,
    action text not null check (action in ('publish', 'rollback')),
    published_oid oid not null,          -- the physical schema now named gold
    previous_oid oid not null,           -- the one now named gold_previous
    build_oid oid not null,              -- the one now named gold_build (next target)
    attempts integer not null,
    lock_wait_ms numeric not null,
    published_at timestamptz not null default now()
);
