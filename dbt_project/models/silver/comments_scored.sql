-- Every comment event once, with its current sentiment (the latest score written).
with

user_events as (
    select * from {{ ref('user_events') }}
),

stg_comment_sentiment as (
    select * from {{ ref('stg_comment_sentiment') }}
),

comments as (
    select * from user_events
    where event_type = 'comment'
),

current_scores as (
    select distinct on (event_id) *
    from stg_comment_sentiment
    order by event_id asc, scored_at desc, scorer_name asc
),

final as (
    select
        comments.event_id,
        comments.event_ts,
        (comments.event_ts at time zone 'UTC')::date as event_date,
        comments.user_id,
        comments.session_key,
        comments.movie_id,
        comments.comment_id,
        comments.comment_text,
        comments.rating,
        current_scores.sentiment_label,
        current_scores.sentiment_score,
        current_scores.scorer_name,
        current_scores.scorer_version,
        current_scores.scored_at,
        comments.source_flag,
        comments._loaded_at
    from comments
    left join current_scores on comments.event_id = current_scores.event_id
)

select * from final
