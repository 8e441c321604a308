{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
    )
}}
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

backups as (
    -- both backups are staged by one macro, so they share one shape
    select * from stg_user_logs
    union all
    select * from stg_comments
),

backed_up as (
    select
        {{ staged_event_column_names() }},
        2 as source_priority
    from backups
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

conformed as (
    select
        {{ conformed_event_columns() }}
    from deduplicated
),

sessionized as (
    select * from {{ sessionized_events('conformed') }} as sessionized
),

computed as (
    select
        event_id,
        event_type,
        event_ts,
        user_id,
        client_session_id,
        movie_id,
        session_key,
        session_number::integer as session_number,
        session_start_ts,
        watched_s,
        position_s,
        duration_s,
        watch_completion,
        is_completed,
        click_target,
        click_page,
        comment_id,
        comment_text,
        rating,
        update_action,
        update_fields,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        source_flag,
        run_id,
        _loaded_at
    from sessionized
),

existing as (
    -- what earlier runs merged; empty on a first or full-refresh build
    {%- if is_incremental() %}
        select
            event_id,
            session_key,
            session_number,
            _loaded_at,
            source_flag
        from {{ this }}
    {%- else %}
        select
            null::uuid as event_id,
            null::text as session_key,
            null::integer as session_number,
            null::timestamptz as _loaded_at,
            null::text as source_flag
        where false
    {%- endif %}
),

final as (
    select computed.*
    from computed
    left join existing on computed.event_id = existing.event_id
    where
        existing.event_id is null
        or existing.session_key is distinct from computed.session_key
        or existing.session_number is distinct from computed.session_number
        or existing._loaded_at is distinct from computed._loaded_at
        or existing.source_flag is distinct from computed.source_flag
)

select * from final
