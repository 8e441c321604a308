-- Comment sentiment per movie and per genre, per UTC day and ISO week (GET /api/emotion_trends).
with

comments_scored as (
    select * from {{ ref('comments_scored') }}
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
        comments_scored.*,
        granularities.granularity,
        case
            when granularities.granularity = 'day' then comments_scored.event_date
            else date_trunc('week', comments_scored.event_date)::date
        end as period_start
    from comments_scored
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
        mean_sentiment_score
    from unioned
)

select * from final
