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
        movie_id,
        title,
        original_title,
        movies_curated.original_language,
        iso_languages.language_name as original_language_name,
        status,
        release_date,
        release_year,
        to_char(release_date, 'YYYYMMDD')::integer as release_date_key,
        runtime_min,
        budget_musd,
        revenue_musd,
        profit_musd,
        roi,
        popularity,
        vote_average,
        vote_count,
        genres,
        top_cast,
        directors,
        cast_size,
        crew_size,
        collection_id,
        collection_name,
        is_franchise,
        imdb_id,
        _loaded_at
    from movies_curated
    left join iso_languages
        on movies_curated.original_language = iso_languages.language_code
)

select * from final
