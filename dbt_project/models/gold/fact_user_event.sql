{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}
-- One row per user event, merged on event_id. Each run re-merges every event of a
-- session that gained an event loaded within the lookback window (rules), so a late
-- event that merges two sessions re-keys the events of both.
with

user_events as (
    select * from {{ ref('user_events') }}
),

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

sessionized as (
    select * from {{ sessionized_events('user_events') }} as sessionized
),

session_loads as (
    select
        session_key,
        max(_loaded_at) as session_loaded_at
    from sessionized
    group by session_key
),

changed as (
    select sessionized.*
    from sessionized
    inner join session_loads on sessionized.session_key = session_loads.session_key
    {%- if is_incremental() %}
        where
            session_loads.session_loaded_at >= (
                select coalesce(max(_loaded_at), '-infinity'::timestamptz) from {{ this }}
            ) - interval '{{ rule_lookback_hours() }} hours'
    {%- endif %}
),

final as (
    select
        {{ event_fact_columns() }}
    from changed as e
    left join dim_movie as m on e.movie_id = m.movie_id
)

select * from final
