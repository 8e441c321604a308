-- Bronze landing tables (schema raw). Append-only, payload as received plus the
-- audit columns ingested_at, run_id, source_flag; idempotent on a natural key.
-- Owned by the migrations; loaders only insert.

create table if not exists raw.tmdb_movies (
    movie_id bigint not null,
    payload jsonb not null,
    -- sha256 of the payload's canonical JSON: a re-run with the same payload adds nothing
    payload_hash text not null,
    ingested_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null default 'tmdb_api',
    primary key (movie_id, payload_hash)
);
create index if not exists tmdb_movies_latest_idx on raw.tmdb_movies (movie_id, ingested_at desc);

create table if not exists raw.mongo_user_logs (
    doc_id text primary key,          -- the MongoDB _id, as a string
    document jsonb not null,
    ingested_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null default 'mongo'
);

create table if not exists raw.mongo_comments (
    doc_id text primary key,
    document jsonb not null,
    ingested_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null default 'mongo'
);

-- Valid front-end events landed by Spark (source_flag 'spark'), or promoted from
-- a pandas fallback run (source_flag 'pandas'). event_id is the idempotency key.
create table if not exists raw.user_events (
    event_id uuid primary key,
    event_type text not null,
    event_ts timestamptz not null,
    user_id text not null,
    session_id text,
    movie_id bigint,
    payload jsonb not null,
    kafka_topic text,
    kafka_partition integer,
    kafka_offset bigint,
    kafka_timestamp timestamptz,
    ingested_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null default 'spark'
);
create index if not exists user_events_ingested_idx on raw.user_events (ingested_at);

-- The pandas fallback lands here, never straight into raw.user_events.
create table if not exists raw.user_events_fallback (like raw.user_events including defaults);
alter table raw.user_events_fallback alter column source_flag set default 'pandas';
do $$
begin
    if not exists (
        select 1 from pg_constraint where conname = 'user_events_fallback_pkey'
    ) then
        alter table raw.user_events_fallback add constraint user_events_fallback_pkey
            primary key (event_id);
    end if;
end $$;
create index if not exists user_events_fallback_run_idx on raw.user_events_fallback (run_id);

-- Dead letters: every message that failed the event contract, with the original
-- bytes, the Kafka coordinates and the reason. Idempotent per coordinates and path.
create table if not exists raw.user_events_rejected (
    rejected_id bigint generated always as identity primary key,
    kafka_topic text not null,
    kafka_partition integer not null,
    kafka_offset bigint not null,
    kafka_timestamp timestamptz,
    raw_key bytea,
    raw_value bytea,
    reason text not null,
    reason_detail text,
    rejected_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null,
    unique (kafka_topic, kafka_partition, kafka_offset, source_flag)
);
