{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['user_id', 'event_ts']},
            {'columns': ['_built_at']},
            {'columns': ['_loaded_at']},
        ],
    )
}}
-- Every valid event once: the Spark landing and the MongoDB backup unioned and
-- deduplicated on event_id (the landing wins; source_flag tells which copy was kept).
--
-- Incremental: only the copies landed since the latest kept landing (less the rules'
-- incremental.lookback_hours, for a landing that committed late) are read from staging.
-- Those that win over the copy already kept are the changed events; each of their
-- users is re-sessionized from the start of the session holding the user's last kept
-- event at or before the earliest change (nothing before it can change: an earlier
-- session ended more than the inactivity gap before), numbering on from the sessions
-- before. Only rows whose session or kept copy changed are written (delete+insert on
-- event_id); the indexes make each of those reads an index scan.
{%- set columns = [
    'event_id', 'event_type', 'event_ts', 'user_id', 'client_session_id', 'movie_id',
    'watched_s', 'position_s', 'duration_s', 'watch_completion', 'is_completed',
    'click_target', 'click_page', 'comment_id', 'comment_text', 'rating',
    'update_action', 'update_fields', 'kafka_topic', 'kafka_partition', 'kafka_offset',
    'kafka_timestamp', 'source_flag', 'run_id', '_loaded_at',
] %}
{%- set landed_in_window -%}
    {%- if is_incremental() %}ingested_at >= (select since.landed_from from since){% else %}true{% endif -%}
{%- endset %}
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

{%- if is_incremental() %}

    since as (
        select
            coalesce(max(_loaded_at), '-infinity'::timestamptz)
            - interval '{{ rule_lookback_hours() }} hours' as landed_from
        from {{ this }}
    ),
{%- endif %}

landed as (
    select
        *,
        1 as source_priority
    from stg_user_events
    where {{ landed_in_window }}
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
    where
        coalesce(backup_valid, true)
        and {{ landed_in_window }}
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
        {{ conformed_event_columns() }},
        source_priority
    from deduplicated
),
{%- if is_incremental() %}

    changed as (
        -- the best copy landed in the window, where it beats the copy kept before (or
        -- none was): the winner of a full rebuild, as every older copy lost already
        select conformed.*
        from conformed
        left join lateral (
            select
                case when k.source_flag = 'mongo' then 2 else 1 end as source_priority,
                k._loaded_at
            from {{ this }} as k
            where k.event_id = conformed.event_id
            order by k.event_id
            limit 1
        ) as kept on true
        where
            kept._loaded_at is null
            or (conformed.source_priority, conformed._loaded_at)
            < (kept.source_priority, kept._loaded_at)
    ),

    touched as (
        -- where a changed event is now, and where its replaced copy was
        select
            user_id,
            event_ts
        from changed
        union all
        select
            kept.user_id,
            kept.event_ts
        from {{ this }} as kept
        inner join changed on kept.event_id = changed.event_id
    ),

    affected as (
        select
            user_id,
            min(event_ts) as first_changed_ts
        from touched
        group by user_id
    ),

    anchors as (
        select
            affected.user_id,
            coalesce(anchor.session_start_ts, '-infinity'::timestamptz) as region_start,
            coalesce(anchor.session_number - 1, 0) as number_offset
        from affected
        left join lateral (
            select
                kept.session_start_ts,
                kept.session_number
            from {{ this }} as kept
            where
                kept.user_id = affected.user_id
                and kept.event_ts <= affected.first_changed_ts
            order by kept.event_ts desc, kept.event_id desc
            limit 1
        ) as anchor on true
    ),

    region as (
        select
            {%- for column in columns %}
                kept.{{ column }},
            {%- endfor %}
            anchors.number_offset
        from {{ this }} as kept
        inner join anchors
            on
                kept.user_id = anchors.user_id
                and kept.event_ts >= anchors.region_start
        where
            not exists (
                select 1 from changed
                where changed.event_id = kept.event_id
            )
        union all
        select
            {%- for column in columns %}
                changed.{{ column }},
            {%- endfor %}
            anchors.number_offset
        from changed
        inner join anchors on changed.user_id = anchors.user_id
    ),

{%- endif %}

sessionized as (
    {%- if is_incremental() %}
        select * from {{ sessionized_events('region', number_offset='number_offset') }} as sessionized
    {%- else %}
        select * from {{ sessionized_events('conformed') }} as sessionized
    {%- endif %}
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
        _loaded_at,
        {{ built_at() }} as _built_at
    from sessionized
),

final as (
    {%- if is_incremental() %}
        select computed.*
        from computed
        -- lateral: one index probe per row, never a hash of the whole table
        left join lateral (
            select
                k.event_id,
                k.session_key,
                k.session_number,
                k._loaded_at,
                k.source_flag
            from {{ this }} as k
            where k.event_id = computed.event_id
            order by k.event_id
            limit 1
        ) as kept on true
        where
            kept.event_id is null
            or kept.session_key is distinct from computed.session_key
            or kept.session_number is distinct from computed.session_number
            or kept._loaded_at is distinct from computed._loaded_at
            or kept.source_flag is distinct from computed.source_flag
    {%- else %}
        select * from computed
    {%- endif %}
)

select * from final
