-- One row per released movie with its current attributes (latest TMDB payload).
with

movies_curated as (
    select * from {{ ref('movies_curated') }}
),

iso_languages as (
    select * from {{ ref('iso_languages') }}
),

final as (
    select
        movies_curated.movie_id,
        movies_curated.title,
        movies_curated.original_title,
        movies_curated.original_language,
        iso_languages.language_name as original_language_name,
        movies_curated.status,
        movies_curated.release_date,
        movies_curated.release_year,
        to_char(movies_curated.release_date, 'YYYYMMDD')::integer as release_date_key,
        movies_curated.runtime_min,
        movies_curated.budget_musd,
        movies_curated.revenue_musd,
        movies_curated.profit_musd,
        movies_curated.roi,
        movies_curated.popularity,
        movies_curated.vote_average,
        movies_curated.vote_count,
        movies_curated.genres,
        movies_curated.production_countries,
        movies_curated.top_cast,
        movies_curated.directors,
        movies_curated.cast_size,
        movies_curated.crew_size,
        movies_curated.collection_id,
        movies_curated.collection_name,
        movies_curated.is_franchise,
        movies_curated.imdb_id,
        movies_curated._loaded_at
    from movies_curated
    left join iso_languages
        on movies_curated.original_language = iso_languages.language_code
)

select * from final
