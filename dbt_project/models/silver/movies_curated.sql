-- Released movies with money in the rules' unit, profit, ROI, flattened genres, production
-- countries (ISO 3166 names from the seed) and credits.
with

stg_movies as (
    select * from {{ ref('stg_movies') }}
),

stg_movie_genres as (
    select * from {{ ref('stg_movie_genres') }}
),

stg_movie_countries as (
    select * from {{ ref('stg_movie_countries') }}
),

iso_countries as (
    select * from {{ ref('iso_countries') }}
),

stg_movie_cast as (
    select * from {{ ref('stg_movie_cast') }}
),

stg_movie_crew as (
    select * from {{ ref('stg_movie_crew') }}
),

released as (
    select * from stg_movies
    where status in {{ rule_released_statuses() }}
),

genres as (
    select
        movie_id,
        string_agg(genre_name, {{ rule_list_separator() }} order by genre_position) as genres
    from stg_movie_genres
    group by movie_id
),

countries as (
    -- ISO 3166's name where the seed knows the code (TMDB's own name otherwise)
    select
        stg_movie_countries.movie_id,
        string_agg(
            coalesce(iso_countries.country_name, stg_movie_countries.country_name),
            {{ rule_list_separator() }}
            order by stg_movie_countries.country_position
        ) as production_countries
    from stg_movie_countries
    left join iso_countries
        on stg_movie_countries.country_code = iso_countries.country_code
    group by stg_movie_countries.movie_id
),

billed_cast as (
    select
        movie_id,
        person_name,
        row_number() over (partition by movie_id order by cast_order, credit_position) as billing_rank
    from stg_movie_cast
),

cast_summary as (
    -- one pass over the cast (a view that unnests every payload again when read)
    select
        movie_id,
        string_agg(person_name, {{ rule_list_separator() }} order by billing_rank)
        filter (where billing_rank <= {{ rule_top_cast_size() }}) as top_cast,
        count(*)::integer as cast_size
    from billed_cast
    group by movie_id
),

crew_credits as (
    -- A person credited twice as director (e.g. two director jobs) is listed once.
    select
        movie_id,
        person_name,
        credit_position,
        job in {{ rule_director_jobs() }} as is_director,
        row_number() over (
            partition by movie_id, person_id, job in {{ rule_director_jobs() }}
            order by credit_position
        ) as nth_credit
    from stg_movie_crew
),

crew_summary as (
    -- one pass over the crew (a view that unnests every payload again when read)
    select
        movie_id,
        string_agg(person_name, {{ rule_list_separator() }} order by credit_position)
        filter (where is_director and nth_credit = 1) as directors,
        count(*)::integer as crew_size
    from crew_credits
    group by movie_id
),

money as (
    select
        movie_id,
        {{ to_musd('budget_usd') }} as budget_musd,
        {{ to_musd('revenue_usd') }} as revenue_musd
    from released
),

final as (
    select
        released.movie_id,
        released.title,
        released.original_title,
        released.original_language,
        released.status,
        released.release_date,
        extract(year from released.release_date)::integer as release_year,
        released.runtime_min,
        money.budget_musd,
        money.revenue_musd,
        money.revenue_musd - money.budget_musd as profit_musd,
        {{ ratio('money.revenue_musd', 'money.budget_musd') }} as roi,
        released.popularity,
        released.vote_average,
        released.vote_count,
        genres.genres,
        countries.production_countries,
        cast_summary.top_cast,
        crew_summary.directors,
        coalesce(cast_summary.cast_size, 0) as cast_size,
        coalesce(crew_summary.crew_size, 0) as crew_size,
        released.collection_id,
        released.collection_name,
        released.collection_id is not null as is_franchise,
        released.imdb_id,
        released.ingested_at as _loaded_at
    from released
    inner join money on released.movie_id = money.movie_id
    left join genres on released.movie_id = genres.movie_id
    left join countries on released.movie_id = countries.movie_id
    left join cast_summary on released.movie_id = cast_summary.movie_id
    left join crew_summary on released.movie_id = crew_summary.movie_id
)

select * from final
