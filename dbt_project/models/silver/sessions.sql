{{
    config(
        materialized='incremental',
        incremental_strategy='user_region',
        region_column='session_start_ts',
        unique_key='session_key',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['session_key'], 'unique': true},
            {'columns': ['user_id', 'session_start_ts']},
            {'columns': ['session_start_ts']},
            {'columns': ['_built_at']},
        ],
    )
}}
-- Sessions: a user's events split where the gap exceeds the rules' inactivity gap
-- (the split itself is made once, in user_events; see sessionized_events()).
-- Incremental: a user whose events were rebuilt since this table's last run has every
-- session from the earliest rebuilt one on recomputed from user_events (an index range
-- read) and replaced (strategy user_region, macros/incremental.sql): a session a late
-- event merged into an earlier one disappears with them.
with

-- not materialized: the incremental run reads a few rows of it by index, twice
user_events as not materialized (
    select * from {{ ref('user_events') }}
),

{{ user_region_ctes('region_events', 'user_events', start='session_start_ts', row_start='event_ts') }},

final as (
    select
        session_key,
        user_id,
        min(session_number) as session_number,
        min(event_ts) as session_start_ts,
        max(event_ts) as session_end_ts,
        trim_scale(extract(epoch from max(event_ts) - min(event_ts))) as duration_s,
        {{ date_key('min(event_ts)') }} as start_date_key,
        count(*)::integer as event_count,
        count(*) filter (where event_type = 'watch')::integer as watch_count,
        count(*) filter (where event_type = 'click')::integer as click_count,
        count(*) filter (where event_type = 'comment')::integer as comment_count,
        count(distinct movie_id)::integer as movie_count,
        coalesce(sum(watched_s), 0) as watched_s,
        -- what dim_user sums per user, so it never reads the events
        count(*) filter (where is_completed)::integer as completed_watch_count,
        count(is_completed)::integer as timed_watch_count,
        coalesce(sum(rating), 0) as rating_sum,
        count(rating)::integer as rating_count,
        max(_loaded_at) as _loaded_at,
        {{ built_at() }} as _built_at
    from region_events
    group by session_key, user_id
)

select * from final
