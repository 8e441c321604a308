-- Franchise movies against standalone ones: always two rows, even when a group is empty.
with

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

groups as (
    select
        is_franchise,
        case when is_franchise then 'franchise' else 'standalone' end as movie_group
    from (values (true), (false)) as g (is_franchise)
),

per_group as (
    select
        is_franchise,
        count(*)::integer as movie_count,
        avg(revenue_musd) as mean_revenue_musd,
        percentile_cont(0.5) within group (
            order by {{ roi_with_threshold('revenue_musd', 'budget_musd') }}
        )::numeric as median_roi,
        avg(budget_musd) as mean_budget_musd,
        avg(popularity) as mean_popularity,
        avg(vote_average) filter (where vote_count > 0) as mean_rating
    from dim_movie
    group by is_franchise
),

final as (
    select
        groups.movie_group,
        groups.is_franchise,
        coalesce(per_group.movie_count, 0) as movie_count,
        per_group.mean_revenue_musd,
        per_group.median_roi,
        per_group.mean_budget_musd,
        per_group.mean_popularity,
        per_group.mean_rating
    from groups
    left join per_group on groups.is_franchise = per_group.is_franchise
)

select * from final
