-- One row per derived session (see silver.sessions).
with

sessions as (
    select * from {{ ref('sessions') }}
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
        watched_s
    from sessions
)

select * from final
