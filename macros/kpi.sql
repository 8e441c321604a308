{#-
  One movie KPI mart: the rules' top N movies by `metric` (a dim_movie column),
  `rank` 1..N with ties broken by movie_id ascending, rows without the metric
  left out, an optional extra filter (e.g. the ROI budget threshold).
-#}
{% macro kpi_movie_rank(metric, direction='desc', where=none) -%}
with

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

candidates as (
    select
        movie_id,
        title,
        release_year,
        {{ metric }}
    from dim_movie
    where
        {{ metric }} is not null
        {%- if where %}
            and {{ where }}
        {%- endif %}
),

ranked as (
    select
        row_number() over (order by {{ metric }} {{ direction }}, movie_id asc)::integer as rank,
        movie_id,
        title,
        release_year,
        {{ metric }}
    from candidates
),

final as (
    select * from ranked
    where rank <= {{ rule_kpi_top_n() }}
)

select * from final
{%- endmacro %}
