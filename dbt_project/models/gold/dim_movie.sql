-- One row per released movie with its current attributes (latest TMDB payload).
with

movies_curated as (
    select * from {{ ref('movies_curated') }}
),

final as (
    select
        movie_id,
        title,
        original_title,
        original_language,
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
)

select * from final
