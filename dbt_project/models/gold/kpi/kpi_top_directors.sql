-- The rules' top N directors by total revenue of their released movies (ties: person_id).
with

stg_movie_crew as (
    select * from {{ ref('stg_movie_crew') }}
),

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

dim_person as (
    select * from {{ ref('dim_person') }}
),

directed as (
    select distinct
        stg_movie_crew.person_id,
        stg_movie_crew.movie_id
    from stg_movie_crew
    where stg_movie_crew.job in {{ rule_director_jobs() }}
),

per_director as (
    select
        directed.person_id,
        count(*)::integer as movie_count,
        coalesce(sum(dim_movie.revenue_musd), 0) as total_revenue_musd,
        -- a movie nobody voted on has no rating (TMDB reports 0)
        avg(dim_movie.vote_average) filter (where dim_movie.vote_count > 0) as mean_rating
    from directed
    inner join dim_movie on directed.movie_id = dim_movie.movie_id
    group by directed.person_id
),

ranked as (
    select
        row_number() over (order by per_director.total_revenue_musd desc, per_director.person_id asc)::integer
            as rank,
        per_director.person_id,
        dim_person.person_name,
        per_director.movie_count,
        per_director.total_revenue_musd,
        per_director.mean_rating
    from per_director
    inner join dim_person on per_director.person_id = dim_person.person_id
),

final as (
    select * from ranked
    where rank <= {{ rule_kpi_top_n() }}
)

select * from final
