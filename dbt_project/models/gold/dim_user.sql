-- One row per user seen in the events, with lifetime activity.
with

user_events as (
    select * from {{ ref('user_events') }}
),

sessions as (
    select * from {{ ref('sessions') }}
),

activity as (
    select
        user_id,
        min(event_ts) as first_event_ts,
        max(event_ts) as last_event_ts,
        count(*)::integer as event_count,
        count(*) filter (where event_type = 'watch')::integer as watch_count,
        count(*) filter (where event_type = 'comment')::integer as comment_count,
        count(*) filter (where is_completed)::integer as completed_watch_count,
        coalesce(sum(watched_s), 0) as watched_s,
        avg(rating) as mean_rating
    from user_events
    group by user_id
),

session_counts as (
    select
        user_id,
        count(*)::integer as session_count
    from sessions
    group by user_id
),

final as (
    select
        activity.user_id,
        activity.first_event_ts,
        activity.last_event_ts,
        {{ date_key('activity.first_event_ts') }} as first_date_key,
        activity.event_count,
        coalesce(session_counts.session_count, 0) as session_count,
        activity.watch_count,
        activity.completed_watch_count,
        activity.comment_count,
        activity.watched_s,
        activity.mean_rating
    from activity
    left join session_counts on activity.user_id = session_counts.user_id
)

select * from final
