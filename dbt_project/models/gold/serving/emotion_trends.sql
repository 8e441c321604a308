{{
    config(
        materialized='incremental',
        unique_key='trend_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['_built_at']}, {'columns': ['movie_id']}],
    )
}}
-- Comment sentiment per movie and per genre, per UTC day and ISO week (GET /api/emotion_trends).
-- Incremental by week: a run recomputes every day and week row of the ISO weeks that
-- hold a comment rebuilt since this table's own last run (silver.comments_scored's
-- _built_at, an index range), from those weeks' comments only (event_date ranges), and replaces them by
-- trend_key (delete+insert), and every week of a movie whose TMDB payload landed since
-- (its genre rows). Comments are never dropped, so no row of those weeks is
-- left behind; the build schema may be a few runs behind, its watermark catches it up.
-- depends_on: {{ ref('stg_movies') }}
with

-- not materialized: the incremental run reads it twice, by index and by week
comments_scored as not materialized (
    select * from {{ ref('comments_scored') }}
),
{%- if is_incremental() %}

    changed_weeks as (
        select date_trunc('week', event_date)::date as week_start
        from comments_scored
        where _built_at > {{ built_watermark() }}
        union
        -- every week of a movie whose TMDB payload landed since (its genres, its place
        -- in dim_movie may have changed)
        select trends.period_start
        from {{ this }} as trends
        where
            trends.scope = 'movie'
            and trends.granularity = 'week'
            and trends.movie_id in (
                select stg_movies.movie_id from {{ ref('stg_movies') }} as stg_movies
                where stg_movies.ingested_at > {{ built_watermark() }}
            )
    ),
{%- endif %}

week_comments as (
    select comments_scored.*
    {%- if is_incremental() %}
        from changed_weeks
        inner join comments_scored
            on
                changed_weeks.week_start <= comments_scored.event_date
                and changed_weeks.week_start + 7 > comments_scored.event_date
    {%- else %}
        from comments_scored
    {%- endif %}
),

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

stg_movie_genres as (
    select * from {{ ref('stg_movie_genres') }}
),

granularities as (
    select granularity
    from (values ('day'), ('week')) as g (granularity)
),

periods as (
    select
        week_comments.*,
        granularities.granularity,
        case
            when granularities.granularity = 'day' then week_comments.event_date
            else date_trunc('week', week_comments.event_date)::date
        end as period_start
    from week_comments
    cross join granularities
),

movie_genres as (
    select distinct
        stg_movie_genres.movie_id,
        stg_movie_genres.genre_name as genre
    from stg_movie_genres
    inner join dim_movie on stg_movie_genres.movie_id = dim_movie.movie_id
),

by_movie as (
    select
        'movie' as scope,
        movie_id,
        null::text as genre,
        granularity,
        period_start,
        {{ sentiment_measures() }}
    from periods
    where movie_id is not null
    group by movie_id, granularity, period_start
),

by_genre as (
    select
        'genre' as scope,
        null::bigint as movie_id,
        movie_genres.genre,
        periods.granularity,
        periods.period_start,
        {{ sentiment_measures() }}
    from periods
    inner join movie_genres on periods.movie_id = movie_genres.movie_id
    group by movie_genres.genre, periods.granularity, periods.period_start
),

unioned as (
    select * from by_movie
    union all
    select * from by_genre
),

final as (
    select
        scope || ':' || granularity || ':' || period_start::text || ':'
        || coalesce(movie_id::text, genre) as trend_key,
        scope,
        movie_id,
        genre,
        granularity,
        period_start,
        case when granularity = 'day' then period_start else period_start + 6 end as period_end,
        comment_count,
        scored_count,
        positive_count,
        neutral_count,
        negative_count,
        positive_share,
        neutral_share,
        negative_share,
        mean_sentiment_score,
        {{ built_at() }} as _built_at
    from unioned
)

select * from final
