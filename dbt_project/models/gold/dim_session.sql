{{
    config(
        materialized='incremental',
        incremental_strategy='user_region',
        region_column='session_start_ts',
        unique_key='session_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['user_id', 'session_start_ts']},
            {'columns': ['_built_at']},
        ],
    )
}}
-- One row per derived session (see silver.sessions). Incremental like silver.sessions:
-- a user's sessions from the earliest one rebuilt since this table's last run are
-- replaced (strategy user_region), so a session merged away disappears here too.
with

-- not materialized: the incremental run reads a few rows of it by index, twice
sessions as not materialized (
    select * from {{ ref('sessions') }}
),

{{ user_region_ctes('changed', 'sessions', start='session_start_ts', row_start='session_start_ts') }},

final as (
    select
        session_key,
        user_id,
        session_number,
        session_start_ts,
        session_end_ts,
        duration_s,
        start_date_key,
        event_count,
        watch_count,
        click_count,
        comment_count,
        movie_count,
        watched_s,
        {{ built_at() }} as _built_at
    from changed
)

select * from final
