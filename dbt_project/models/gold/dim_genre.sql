-- One row per TMDB genre of the released movies.
with

stg_movie_genres as (
    select * from {{ ref('stg_movie_genres') }}
),

movies_curated as (
    select * from {{ ref('movies_curated') }}
),

named as (
    -- TMDB names a genre the same everywhere; the most frequent spelling wins if not.
    select
        stg_movie_genres.genre_id,
        stg_movie_genres.genre_name,
        count(*) as movie_count,
        row_number() over (
            partition by stg_movie_genres.genre_id order by count(*) desc, stg_movie_genres.genre_name
        ) as name_rank
    from stg_movie_genres
    inner join movies_curated on stg_movie_genres.movie_id = movies_curated.movie_id
    group by stg_movie_genres.genre_id, stg_movie_genres.genre_name
),

final as (
    select
        genre_id,
        genre_name,
        (sum(movie_count) over (partition by genre_id))::integer as movie_count
    from named
    where name_rank = 1
)

select * from final
