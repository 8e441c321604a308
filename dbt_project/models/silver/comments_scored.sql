{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_date']},
            {'columns': ['_built_at']},
        ],
    )
}}
-- Every comment event once, with its current sentiment (the latest score written).
-- Incremental (delete+insert on event_id): the comments rebuilt in user_events since
-- this table's last run, and the comments scored since then (less the rules'
-- incremental.lookback_hours, for a score that committed late).
with

-- not materialized: the incremental run reads a few rows of it by index, twice
user_events as not materialized (
    select * from {{ ref('user_events') }}
),

-- not materialized: the incremental run reads a few rows of it by index, twice
stg_comment_sentiment as not materialized (
    select * from {{ ref('stg_comment_sentiment') }}
),

{%- if is_incremental() %}

    rescored as (
        select distinct stg_comment_sentiment.event_id
        from stg_comment_sentiment
        where
            stg_comment_sentiment.scored_at
            >= {{ built_watermark() }} - interval '{{ rule_lookback_hours() }} hours'
    ),
{%- endif %}

comments as (
    {%- if is_incremental() %}
        select * from user_events
        where
            event_type = 'comment'
            and _built_at > {{ built_watermark() }}
        union all
        select user_events.* from user_events
        inner join rescored on user_events.event_id = rescored.event_id
        where
            user_events.event_type = 'comment'
            and user_events._built_at <= {{ built_watermark() }}
    {%- else %}
        select * from user_events
        where event_type = 'comment'
    {%- endif %}
),

current_scores as (
    select distinct on (scores.event_id) *
    from stg_comment_sentiment as scores
    where scores.event_id in (select comments.event_id from comments)
    order by scores.event_id asc, scores.scored_at desc, scores.scorer_name asc
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
        comments._loaded_at,
        {{ built_at() }} as _built_at
    from comments
    left join current_scores on comments.event_id = current_scores.event_id
)

select * from final
