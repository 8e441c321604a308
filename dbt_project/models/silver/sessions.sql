-- Sessions: a user's events split where the gap exceeds the rules' inactivity gap
-- (the split itself is made once, in user_events; see sessionized_events()).
with

user_events as (
    select * from {{ ref('user_events') }}
),

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
        max(_loaded_at) as _loaded_at
    from user_events
    group by session_key, user_id
)

select * from final
