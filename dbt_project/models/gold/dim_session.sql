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
{%- if is_incremental() %}

    regions as (
        select
            user_id,
            min(session_start_ts) as region_start
        from sessions
        where _built_at > {{ built_watermark() }}
        group by user_id
    ),
{%- endif %}

changed as (
    {%- if is_incremental() %}
        select sessions.*
        from sessions
        inner join regions
            on
                sessions.user_id = regions.user_id
                and sessions.session_start_ts >= regions.region_start
    {%- else %}
        select * from sessions
    {%- endif %}
),

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
