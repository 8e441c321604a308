{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}
-- One row per user event, merged on event_id. A run looks at every session that gained
-- an event landed within the lookback window (rules) of the latest landed event, and at
-- every event whose movie entered or left dim_movie; of those, only new rows and rows
-- whose session or movie changed are merged (a late event that bridges two sessions
-- re-keys the events of the later one).
with

user_events as (
    select * from {{ ref('user_events') }}
),

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

existing as (
    -- what earlier runs merged; empty on a first or full-refresh build
    {%- if is_incremental() %}
        select
            event_id,
            session_key,
            movie_key,
            _loaded_at
        from {{ this }}
    {%- else %}
        select
            null::uuid as event_id,
            null::text as session_key,
            null::bigint as movie_key,
            null::timestamptz as _loaded_at
        where false
    {%- endif %}
),

lookback as (
    select max(_loaded_at) - interval '{{ rule_lookback_hours() }} hours' as cutoff
    from existing
),

session_loads as (
    select
        session_key,
        max(_loaded_at) as session_loaded_at
    from user_events
    group by session_key
),

changed as (
    select user_events.*
    from user_events
    inner join session_loads on user_events.session_key = session_loads.session_key
    cross join lookback
    left join dim_movie on user_events.movie_id = dim_movie.movie_id
    left join existing on user_events.event_id = existing.event_id
    where
        existing.event_id is null
        or existing.movie_key is distinct from dim_movie.movie_id
        or (
            session_loads.session_loaded_at >= lookback.cutoff
            and (
                existing.session_key is distinct from user_events.session_key
                or existing._loaded_at is distinct from user_events._loaded_at
            )
        )
),

final as (
    select
        {{ event_fact_columns() }}
    from changed as e
    left join dim_movie as m on e.movie_id = m.movie_id
)

select * from final
