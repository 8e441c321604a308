-- Directors and cast of the released movies, one row per TMDB person.
with

stg_movie_cast as (
    select * from {{ ref('stg_movie_cast') }}
),

stg_movie_crew as (
    select * from {{ ref('stg_movie_crew') }}
),

movies_curated as (
    select * from {{ ref('movies_curated') }}
),

credits as (
    select
        stg_movie_cast.person_id,
        stg_movie_cast.person_name,
        stg_movie_cast.movie_id,
        'cast' as credit_kind
    from stg_movie_cast
    inner join movies_curated on stg_movie_cast.movie_id = movies_curated.movie_id
    union all
    select
        stg_movie_crew.person_id,
        stg_movie_crew.person_name,
        stg_movie_crew.movie_id,
        'director' as credit_kind
    from stg_movie_crew
    inner join movies_curated on stg_movie_crew.movie_id = movies_curated.movie_id
    where stg_movie_crew.job in {{ rule_director_jobs() }}
),

final as (
    select
        person_id,
        -- the name on the most recent credit wins when TMDB spelled it differently
        (array_agg(person_name order by movie_id desc))[1] as person_name,
        bool_or(credit_kind = 'director') as is_director,
        bool_or(credit_kind = 'cast') as is_cast,
        (count(distinct movie_id) filter (where credit_kind = 'director'))::integer as movies_directed,
        (count(distinct movie_id) filter (where credit_kind = 'cast'))::integer as movies_cast
    from credits
    group by person_id
)

select * from final
