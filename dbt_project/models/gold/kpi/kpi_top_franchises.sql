-- The rules' top N franchises (TMDB collections) by total revenue (ties: collection_id).
with

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

per_franchise as (
    select
        collection_id,
        (array_agg(collection_name order by movie_id))[1] as collection_name,
        count(*)::integer as movie_count,
        coalesce(sum(revenue_musd), 0) as total_revenue_musd,
        avg(revenue_musd) as mean_revenue_musd,
        coalesce(sum(budget_musd), 0) as total_budget_musd,
        avg(vote_average) filter (where vote_count > 0) as mean_rating
    from dim_movie
    where is_franchise
    group by collection_id
),

ranked as (
    select
        row_number() over (order by total_revenue_musd desc, collection_id asc)::integer as rank,
        collection_id,
        collection_name,
        movie_count,
        total_revenue_musd,
        mean_revenue_musd,
        total_budget_musd,
        mean_rating
    from per_franchise
),

final as (
    select * from ranked
    where rank <= {{ rule_kpi_top_n() }}
)

select * from final
