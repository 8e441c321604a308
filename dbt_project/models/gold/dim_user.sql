-- One row per user seen in the events, with lifetime activity. Rebuilt every run from
-- silver.sessions (a row per session carries the sums), never from the events: its
-- cost follows the sessions, about a tenth of the events.
with

sessions as (
    select * from {{ ref('sessions') }}
),

activity as (
    select
        user_id,
        min(session_start_ts) as first_event_ts,
        max(session_end_ts) as last_event_ts,
        sum(event_count)::integer as event_count,
        count(*)::integer as session_count,
        sum(watch_count)::integer as watch_count,
        sum(comment_count)::integer as comment_count,
        sum(completed_watch_count)::integer as completed_watch_count,
        sum(watched_s) as watched_s,
        sum(rating_sum) / nullif(sum(rating_count), 0) as mean_rating
    from sessions
    group by user_id
),

final as (
    select
        user_id,
        first_event_ts,
        last_event_ts,
        {{ date_key('first_event_ts') }} as first_date_key,
        event_count,
        session_count,
        watch_count,
        completed_watch_count,
        comment_count,
        watched_s,
        mean_rating
    from activity
)

select * from final
