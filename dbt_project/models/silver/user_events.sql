-- Every valid event once: the Spark landing and the MongoDB backup unioned and
-- deduplicated on event_id (the landing wins; source_flag tells which copy was kept).
with

stg_user_events as (
    select * from {{ ref('stg_user_events') }}
),

stg_user_logs as (
    select * from {{ ref('stg_user_logs') }}
),

stg_comments as (
    select * from {{ ref('stg_comments') }}
),

landed as (
    select
        *,
        1 as source_priority
    from stg_user_events
),

backed_up as (
    select
        event_id, event_type, event_ts, user_id, client_session_id, movie_id,
        position_s, duration_s, watched_s, click_target, click_page,
        comment_id, comment_text, rating, update_action, update_fields,
        kafka_topic, kafka_partition, kafka_offset,
        null::timestamptz as kafka_timestamp,
        ingested_at, run_id, source_flag,
        2 as source_priority
    from stg_user_logs
    where coalesce(backup_valid, true)
    union all
    select
        event_id, event_type, event_ts, user_id, client_session_id, movie_id,
        position_s, duration_s, watched_s, click_target, click_page,
        comment_id, comment_text, rating, update_action, update_fields,
        kafka_topic, kafka_partition, kafka_offset,
        null::timestamptz as kafka_timestamp,
        ingested_at, run_id, source_flag,
        2 as source_priority
    from stg_comments
    where coalesce(backup_valid, true)
),

unioned as (
    select * from landed
    union all
    select * from backed_up
    where
        -- The backup holds raw messages; only events meeting the contract's core count.
        event_id is not null
        and event_type in {{ rule_valid_event_types() }}
        and event_ts is not null
        and user_id is not null
),

deduplicated as (
    select distinct on (event_id) *
    from unioned
    order by event_id asc, source_priority asc, ingested_at asc
),

final as (
    select
        {{ conformed_event_columns() }}
    from deduplicated
)

select * from final
