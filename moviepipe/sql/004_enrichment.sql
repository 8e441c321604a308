-- Comment sentiment written by `moviepipe enrich` (enrich/store.py). One row per comment
-- event and scorer version; a comment is scored again only under a new scorer version.
-- The current score of a comment is its latest scored_at (silver.comments_scored).
create table if not exists raw.comment_sentiment (
    event_id uuid not null,
    scorer_name text not null,
    scorer_version text not null,
    label text not null check (label in ('positive', 'neutral', 'negative')),
    score numeric not null check (score between -1 and 1),
    scored_at timestamptz not null default now(),
    run_id text not null,
    source_flag text not null default 'enrich',
    primary key (event_id, scorer_name, scorer_version)
);
create index if not exists comment_sentiment_latest_idx
    on raw.comment_sentiment (event_id, scored_at desc);
