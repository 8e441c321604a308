{{
    config(
        materialized='incremental',
        incremental_strategy='user_region',
        region_column='event_date',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['user_id', 'event_date']},
            {'columns': ['event_date']},
            {'columns': ['_built_at']},
        ],
    )
}}
-- Per user, movie and UTC day: the event counts and measures the serving marts sum
-- (top_movies, user_stats, user_stats_overall read this, never the events), a small
-- fraction of the events' rows. Incremental: a user with events rebuilt since this
-- table's last run has every day from the earliest of them on recomputed from
-- user_events (an index range read) and replaced (strategy user_region).
with

-- not materialized: the incremental run reads a few rows of it by index, twice
user_events as not materialized (
    select * from {{ ref('user_events') }}
),

{{ user_region_ctes('region_events', 'user_events', start="(event_ts at time zone 'UTC')::date",
    row_start='event_ts', utc_day=true) }},

final as (
    select
        user_id,
        movie_id,
        (event_ts at time zone 'UTC')::date as event_date,
        min(event_ts) as first_event_ts,
        max(event_ts) as last_event_ts,
        count(*)::integer as event_count,
        count(*) filter (where event_type = 'watch')::integer as watch_count,
        sum(watched_s) as watched_s,
        count(*) filter (where is_completed)::integer as completed_watch_count,
        count(is_completed)::integer as timed_watch_count,
        count(*) filter (where event_type = 'comment')::integer as comment_count,
        sum(rating) as rating_sum,
        count(rating)::integer as rating_count,
        {{ built_at() }} as _built_at
    from region_events
    group by user_id, movie_id, (event_ts at time zone 'UTC')::date
)

select * from final
