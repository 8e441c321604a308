-- One row per production country of a movie's current payload, in TMDB's order.
with

stg_movies as (
    select * from {{ ref('stg_movies') }}
),

final as (
    select
        stg_movies.movie_id,
        upper(country.value ->> 'iso_3166_1') as country_code,
        country.value ->> 'name' as country_name,
        country.ordinality::integer as country_position
    from stg_movies
    cross join lateral jsonb_array_elements(
        {{ jsonb_array_or_empty('stg_movies.production_countries_json') }}
    ) with ordinality as country (value, ordinality)
)

select * from final
