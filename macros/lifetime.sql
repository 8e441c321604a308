{#-
  Lifetime totals per (user, movie) without re-reading the history every run
  (docs/scaling.md, "Measured curve"). silver.user_movie_totals holds the sums of
  silver.user_movie_days over the closed days (event_date before its cutoff, the
  table's latest `closed_before`); the open days after it (about a week) are read
  from user_movie_days itself by an index range and added at query time
  (`lifetime_pairs()`). So the marts over all history aggregate one small row per
  (user, movie) instead of every (user, movie, day).
-#}

{#- The measures of a (user, movie) row and how two of them combine. -#}
{% macro lifetime_measures() -%}
    {%- do return([
        ('first_event_ts', 'min'),
        ('last_event_ts', 'max'),
        ('event_count', 'sum'),
        ('watch_count', 'sum'),
        ('watched_s', 'sum'),
        ('completed_watch_count', 'sum'),
        ('timed_watch_count', 'sum'),
        ('comment_count', 'sum'),
        ('rating_sum', 'sum'),
        ('rating_count', 'sum'),
    ]) -%}
{%- endmacro %}

{#- The measures aggregated over `rows` per (user_id, movie_id); counts stay integer. -#}
{% macro lifetime_aggregates(rows) -%}
    {%- for name, agg in lifetime_measures() %}
        {%- if name.endswith('_count') %}
        {{ agg }}({{ rows }}.{{ name }})::integer as {{ name }}{{ ',' if not loop.last }}
        {%- else %}
        {{ agg }}({{ rows }}.{{ name }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The column list of the measures, for a union. -#}
{% macro lifetime_columns() -%}
    {%- for name, agg in lifetime_measures() %}{{ name }}{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{#-
  The cutoff of silver.user_movie_totals: the days before it are in the table. Read
  once and written as a literal so the open days are an index range (as
  `built_watermark()`); a unit test's tables are fixtures and a compile before the
  first build (sqlfluff, dbt docs) has no table yet, so there it is a subquery.
-#}
{% macro lifetime_cutoff(totals) -%}
    {%- set subquery -%}
        (select coalesce(max(closed_before), '-infinity'::date) from {{ totals }})
    {%- endset -%}
    {%- set built = execute and model.resource_type != 'unit_test'
        and adapter.get_relation(totals.database, totals.schema, totals.identifier) is not none -%}
    {%- if built -%}
        {%- set latest = run_query('select ' ~ subquery ~ '::text') -%}
        '{{ latest.columns[0].values()[0] }}'::date
    {%- else -%}
        {{ subquery }}
    {%- endif -%}
{%- endmacro %}

{#-
  Every (user, movie) over all history: the closed totals plus the open days, one
  row per pair (movie_id null for the events without a movie, as in user_movie_days).
-#}
{% macro lifetime_pairs() -%}
    {%- set totals = ref('user_movie_totals') -%}
    {%- set days = ref('user_movie_days') -%}
    select
        user_id,
        movie_id,
        {{ lifetime_aggregates('unioned') }}
    from (
        select user_id, movie_id, {{ lifetime_columns() }}
        from {{ totals }}
        union all
        select user_id, movie_id, {{ lifetime_columns() }}
        from {{ days }}
        where event_date >= {{ lifetime_cutoff(totals) }}
    ) as unioned
    group by user_id, movie_id
{%- endmacro %}
