-- One row per genre of a movie's current payload, in TMDB's order.
with

stg_movies as (
    select * from {{ ref('stg_movies') }}
),

final as (
    select
        stg_movies.movie_id,
        (genre.value ->> 'id')::bigint as genre_id,
        genre.value ->> 'name' as genre_name,
        genre.ordinality::integer as genre_position
    from stg_movies
    cross join lateral jsonb_array_elements(
        {{ jsonb_array_or_empty('stg_movies.genres_json') }}
    ) with ordinality as genre (value, ordinality)
)

select * from final
