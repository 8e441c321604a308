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
  The config of the lifetime totals models (silver.user_movie_totals, silver.user_totals):
  a run replaces the affected users' rows (delete+insert on user_id); `indexes` are the
  model's own, the `_built_at` index (data tests, downstream watermarks) is added.
-#}
{% macro lifetime_config(indexes) -%}
    {{- config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_id',
        on_schema_change='append_new_columns',
        indexes=indexes + [{'columns': ['_built_at']}],
    ) -}}
{%- endmacro %}

{#-
  The cutoff a run moves the totals to: the days a week before the latest day of
  silver.user_movie_days are closed (late events after that are rare and re-summed), as
  the CTE `cutoff` of both totals models.
-#}
{% macro lifetime_cutoff_cte() -%}
    cutoff as (
        select coalesce(max(event_date) - 7, '-infinity'::date) as closed_before
        from {{ ref('user_movie_days') }}
    )
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
    {{- query_literal(subquery, 'date', built) }}
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

{#-
  Per-user measure rows of silver.user_totals: a row per session (by its start's UTC
  day) and per comment (by its UTC day) with the day in [since, before), each bound
  a date expression or none, and the user matching `users` (a condition on user_id,
  or none). The bounds stay index ranges (sessions on session_start_ts).
-#}
{% macro user_total_rows(sessions, comments, since=none, before=none, users=none) -%}
    {%- set session_where, comment_where = [], [] -%}
    {%- if since is not none -%}
        {%- do session_where.append("session_start_ts >= ((" ~ since ~ ")::timestamp at time zone 'UTC')") -%}
        {%- do comment_where.append("event_date >= " ~ since) -%}
    {%- endif -%}
    {%- if before is not none -%}
        {%- do session_where.append("session_start_ts < ((" ~ before ~ ")::timestamp at time zone 'UTC')") -%}
        {%- do comment_where.append("event_date < " ~ before) -%}
    {%- endif -%}
    {%- if users is not none -%}
        {%- do session_where.append("user_id " ~ users) -%}
        {%- do comment_where.append("user_id " ~ users) -%}
    {%- endif %}
    select
        user_id,
        1 as session_count,
        duration_s as session_duration_sum,
        (duration_s is not null)::integer as session_duration_count,
        0 as comment_count,
        0 as scored_comment_count,
        0 as positive_count,
        0 as neutral_count,
        0 as negative_count,
        null::numeric as sentiment_score_sum,
        0 as sentiment_score_count
    from {{ sessions }}
    {%- if session_where %}
    where {{ session_where | join(' and ') }}
    {%- endif %}
    union all
    select
        user_id,
        0 as session_count,
        null::numeric as session_duration_sum,
        0 as session_duration_count,
        1 as comment_count,
        (sentiment_label is not null)::integer as scored_comment_count,
        coalesce(sentiment_label = 'positive', false)::integer as positive_count,
        coalesce(sentiment_label = 'neutral', false)::integer as neutral_count,
        coalesce(sentiment_label = 'negative', false)::integer as negative_count,
        sentiment_score as sentiment_score_sum,
        (sentiment_score is not null)::integer as sentiment_score_count
    from {{ comments }}
    {%- if comment_where %}
    where {{ comment_where | join(' and ') }}
    {%- endif %}
{%- endmacro %}

{#- The sums of user_total_rows() columns in `rows`, per user. -#}
{% macro user_total_aggregates(rows) -%}
        sum({{ rows }}.session_count)::integer as session_count,
        sum({{ rows }}.session_duration_sum) as session_duration_sum,
        sum({{ rows }}.session_duration_count)::integer as session_duration_count,
        sum({{ rows }}.comment_count)::integer as comment_count,
        sum({{ rows }}.scored_comment_count)::integer as scored_comment_count,
        sum({{ rows }}.positive_count)::integer as positive_count,
        sum({{ rows }}.neutral_count)::integer as neutral_count,
        sum({{ rows }}.negative_count)::integer as negative_count,
        sum({{ rows }}.sentiment_score_sum) as sentiment_score_sum,
        sum({{ rows }}.sentiment_score_count)::integer as sentiment_score_count
{%- endmacro %}

{#- Every user's session and comment sums over all history: user_totals plus the open days. -#}
{% macro lifetime_user_totals() -%}
    {%- set totals = ref('user_totals') -%}
    {%- set cutoff = lifetime_cutoff(totals) -%}
    select
        user_id,
        {{ user_total_aggregates('unioned') }}
    from (
        select * from (
            select
                user_id,
                session_count,
                session_duration_sum,
                session_duration_count,
                comment_count,
                scored_comment_count,
                positive_count,
                neutral_count,
                negative_count,
                sentiment_score_sum,
                sentiment_score_count
            from {{ totals }}
        ) as closed
        union all
        {{ user_total_rows(ref('sessions'), ref('comments_scored'), since=cutoff) }}
    ) as unioned
    group by user_id
{%- endmacro %}
