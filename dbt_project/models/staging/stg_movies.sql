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

unpacked as (
    -- One jsonb_to_record call per payload: each `payload ->> 'x'` would decompress the
    -- whole (large, TOASTed) payload again, which made this view 50x slower.
    select
        latest.movie_id,
        latest.payload_hash,
        latest.ingested_at,
        latest.run_id,
        latest.source_flag,
        payload_fields.*
    from latest
    cross join lateral jsonb_to_record(latest.payload) as payload_fields (
        title text,
        original_title text,
        original_language text,
        status text,
        release_date text,
        runtime jsonb,
        budget jsonb,
        revenue jsonb,
        popularity jsonb,
        vote_average jsonb,
        vote_count jsonb,
        overview text,
        tagline text,
        homepage text,
        imdb_id text,
        belongs_to_collection jsonb,
        genres jsonb,
        production_countries jsonb,
        credits jsonb,
        keywords jsonb
    )
),

final as (
    select
        movie_id,
        title,
        original_title,
        original_language,
        status,
        {{ safe_date('release_date') }} as release_date,
        {{ safe_bigint("(runtime #>> '{}')") }}::integer as runtime_min,
        {{ safe_bigint("(budget #>> '{}')") }} as budget_usd,
        {{ safe_bigint("(revenue #>> '{}')") }} as revenue_usd,
        {{ safe_numeric("(popularity #>> '{}')") }}::double precision as popularity,
        {{ safe_numeric("(vote_average #>> '{}')") }} as vote_average,
        {{ safe_bigint("(vote_count #>> '{}')") }}::integer as vote_count,
        nullif(overview, '') as overview,
        nullif(tagline, '') as tagline,
        nullif(homepage, '') as homepage,
        nullif(imdb_id, '') as imdb_id,
        {{ safe_bigint("(belongs_to_collection ->> 'id')") }} as collection_id,
        belongs_to_collection ->> 'name' as collection_name,
        coalesce(genres, '[]'::jsonb) as genres_json,
        coalesce(production_countries, '[]'::jsonb) as production_countries_json,
        coalesce(credits -> 'cast', '[]'::jsonb) as cast_json,
        coalesce(credits -> 'crew', '[]'::jsonb) as crew_json,
        coalesce(keywords -> 'keywords', '[]'::jsonb) as keywords_json,
        payload_hash,
        ingested_at,
        run_id,
        source_flag
    from unpacked
)

select * from final
