-- The current TMDB payload of every movie (the latest landed), unpacked and cast.
with

tmdb_movies as (
    select * from {{ source('raw', 'tmdb_movies') }}
),

latest as (
    select distinct on (movie_id)
        movie_id,
        payload,
        payload_hash,
        ingested_at,
        run_id,
        source_flag
    from tmdb_movies
    order by movie_id asc, ingested_at desc, payload_hash asc
),

final as (
    select
        movie_id,
        payload ->> 'title' as title,
        payload ->> 'original_title' as original_title,
        payload ->> 'original_language' as original_language,
        payload ->> 'status' as status,
        {{ safe_date("(payload ->> 'release_date')") }} as release_date,
        {{ safe_bigint("(payload ->> 'runtime')") }}::integer as runtime_min,
        {{ safe_bigint("(payload ->> 'budget')") }} as budget_usd,
        {{ safe_bigint("(payload ->> 'revenue')") }} as revenue_usd,
        {{ safe_numeric("(payload ->> 'popularity')") }}::double precision as popularity,
        {{ safe_numeric("(payload ->> 'vote_average')") }} as vote_average,
        {{ safe_bigint("(payload ->> 'vote_count')") }}::integer as vote_count,
        nullif(payload ->> 'overview', '') as overview,
        nullif(payload ->> 'tagline', '') as tagline,
        nullif(payload ->> 'homepage', '') as homepage,
        nullif(payload ->> 'imdb_id', '') as imdb_id,
        {{ safe_bigint("(payload -> 'belongs_to_collection' ->> 'id')") }} as collection_id,
        payload -> 'belongs_to_collection' ->> 'name' as collection_name,
        coalesce(payload -> 'genres', '[]'::jsonb) as genres_json,
        coalesce(payload -> 'credits' -> 'cast', '[]'::jsonb) as cast_json,
        coalesce(payload -> 'credits' -> 'crew', '[]'::jsonb) as crew_json,
        coalesce(payload -> 'keywords' -> 'keywords', '[]'::jsonb) as keywords_json,
        payload_hash,
        ingested_at,
        run_id,
        source_flag
    from latest
)

select * from final
