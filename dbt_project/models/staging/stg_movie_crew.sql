-- One row per crew credit of a movie's current payload, in TMDB's order.
with

stg_movies as (
    select * from {{ ref('stg_movies') }}
),

final as (
    select
        stg_movies.movie_id,
        credit.value ->> 'credit_id' as credit_id,
        (credit.value ->> 'id')::bigint as person_id,
        credit.value ->> 'name' as person_name,
        credit.value ->> 'job' as job,
        credit.value ->> 'department' as department,
        (credit.value ->> 'gender')::integer as gender,
        credit.ordinality::integer as credit_position
    from stg_movies
    cross join lateral jsonb_array_elements(
        {{ jsonb_array_or_empty('stg_movies.crew_json') }}
    ) with ordinality as credit (value, ordinality)
)

select * from final
