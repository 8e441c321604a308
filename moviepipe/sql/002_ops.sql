-- Operational tables (schema ops): run log, bookmarks, extractor errors,
-- streaming commits and heartbeats, fallback promotions, quality-gate results.

create table if not exists ops.run_log (
    run_id text primary key,
    step text not null,                 -- e.g. 'extract tmdb', 'stream land'
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null default 'running'
        check (status in ('running', 'succeeded', 'failed', 'partial')),
    args jsonb not null default '{}'::jsonb,
    summary jsonb not null default '{}'::jsonb,
    error text
);

create table if not exists ops.bookmarks (
    name text primary key,              -- e.g. 'tmdb.changes', 'mongo.user_logs'
    value text not null,
    updated_at timestamptz not null default now(),
    run_id text
);

create table if not exists ops.extract_errors (
    source text not null,               -- 'tmdb', 'mongo'
    entity_id text not null,            -- movie id, document id
    run_id text not null,
    kind text not null check (kind in ('missing', 'failed')),
    status_code integer,
    message text,
    recorded_at timestamptz not null default now(),
    primary key (source, entity_id, run_id)
);

-- One row per micro-batch committed by a streaming sink, written in the same
-- transaction as the batch's rows: a replayed batch finds its id and does nothing.
create table if not exists ops.stream_batches (
    sink text not null,                 -- e.g. 'spark.user_events'
    batch_id bigint not null,
    rows_in integer not null,
    rows_landed integer not null,
    rows_rejected integer not null,
    committed_at timestamptz not null default now(),
    primary key (sink, batch_id)
);

create table if not exists ops.stream_heartbeat (
    heartbeat_id bigint generated always as identity primary key,
    sink text not null,
    batch_id bigint,
    rows_in integer not null default 0,
    rows_landed integer not null default 0,
    rows_rejected integer not null default 0,
    lag bigint,
    beat_at timestamptz not null default now()
);
create index if not exists stream_heartbeat_sink_idx on ops.stream_heartbeat (sink, beat_at desc);

create table if not exists ops.fallback_promotions (
    promotion_id bigint generated always as identity primary key,
    fallback_run_id text not null,
    promoted_by text not null,
    promoted_at timestamptz not null default now(),
    rows_promoted integer not null,
    rows_skipped integer not null
);

create table if not exists ops.quality_results (
    result_id bigint generated always as identity primary key,
    run_id text not null,
    checkpoint text not null,
    layer text not null,
    success boolean not null,
    statistics jsonb not null default '{}'::jsonb,
    checked_at timestamptz not null default now()
);
