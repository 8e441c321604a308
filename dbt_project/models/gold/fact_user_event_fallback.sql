-- Events of the pandas fallback, same shape as fact_user_event, kept apart until an
-- operator promotes a run (sessions are derived within the fallback events alone).
with

stg_user_events_fallback as (
    select * from {{ ref('stg_user_events_fallback') }}
),

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

conformed as (
    select
        {{ conformed_event_columns() }}
    from stg_user_events_fallback
),

sessionized as (
    select * from {{ sessionized_events('conformed') }} as sessionized
),

final as (
    select
        {{ event_fact_columns() }},
        {{ built_at() }} as _built_at
    from sessionized as e
    left join dim_movie as m on e.movie_id = m.movie_id
)

select * from final
