-- Movies ranked per period, genre and metric (GET /api/top_movies): engagement and watch
-- time from the events, users' ratings, and TMDB's rating; see docs/enrich.md.
-- Over all history, rebuilt every run, but from silver.user_movie_days (a row per user,
-- movie and day), not from the events: its cost follows users x movies x days.
with

user_movie_days as (
    select * from {{ ref('user_movie_days') }}
),

comments_scored as (
    select * from {{ ref('comments_scored') }}
),

dim_movie as (
    select * from {{ ref('dim_movie') }}
),

stg_movie_genres as (
    select * from {{ ref('stg_movie_genres') }}
),

as_of as (
    -- the days of every event, as in the fact
    select
        max(user_movie_days.event_date) as as_of_date,
        min(user_movie_days.event_date) as first_date
    from user_movie_days
),

periods as (
    select
        p.period,
        as_of.as_of_date,
        coalesce(as_of.as_of_date - (p.days - 1), as_of.first_date) as period_start_date
    from (values ('all', null::integer), ('7d', 7), ('30d', 30), ('90d', 90)) as p (period, days)
    cross join as_of
),

movie_activity as (
    select
        periods.period,
        activity_days.movie_id,
        count(distinct activity_days.user_id)::integer as engaged_users,
        sum(activity_days.event_count)::integer as event_count,
        sum(activity_days.watch_count)::integer as watch_count,
        coalesce(sum(activity_days.watched_s), 0) as watched_s,
        sum(activity_days.completed_watch_count)::integer as completed_watch_count,
        sum(activity_days.comment_count)::integer as comment_count,
        sum(activity_days.rating_count)::integer as rating_count,
        round(sum(activity_days.rating_sum) / nullif(sum(activity_days.rating_count), 0), 4) as mean_rating
    from user_movie_days as activity_days
    inner join periods on activity_days.event_date >= periods.period_start_date
    -- the fact's movie_key: the movie when it is in dim_movie
    where activity_days.movie_id in (select dim_movie.movie_id from dim_movie)
    group by periods.period, activity_days.movie_id
),

movie_sentiment as (
    select
        periods.period,
        comments_scored.movie_id,
        {{ share("count(*) filter (where comments_scored.sentiment_label = 'positive')",
                 "count(comments_scored.sentiment_label)") }} as positive_share
    from comments_scored
    inner join periods on comments_scored.event_date >= periods.period_start_date
    group by periods.period, comments_scored.movie_id
),

candidates as (
    -- every movie with an event in the period, and every released movie for tmdb_rating
    select
        periods.period,
        periods.as_of_date,
        periods.period_start_date,
        dim_movie.movie_id,
        dim_movie.title,
        dim_movie.release_year,
        dim_movie.vote_average,
        dim_movie.vote_count,
        movie_activity.movie_id is not null as has_activity,
        coalesce(movie_activity.engaged_users, 0) as engaged_users,
        coalesce(movie_activity.event_count, 0) as event_count,
        coalesce(movie_activity.watch_count, 0) as watch_count,
        coalesce(movie_activity.watched_s, 0) as watched_s,
        coalesce(movie_activity.completed_watch_count, 0) as completed_watch_count,
        coalesce(movie_activity.comment_count, 0) as comment_count,
        coalesce(movie_activity.rating_count, 0) as rating_count,
        movie_activity.mean_rating,
        movie_sentiment.positive_share
    from periods
    cross join dim_movie
    left join movie_activity
        on periods.period = movie_activity.period and dim_movie.movie_id = movie_activity.movie_id
    left join movie_sentiment
        on periods.period = movie_sentiment.period and dim_movie.movie_id = movie_sentiment.movie_id
),

genres as (
    select distinct
        movie_id,
        genre_name as genre
    from stg_movie_genres
    union all
    select
        movie_id,
        'all' as genre
    from dim_movie
),

metric_values as (
    select
        candidates.*,
        genres.genre,
        m.metric,
        case m.metric
            when 'engagement' then candidates.engaged_users::numeric
            when 'watch_time' then candidates.watched_s
            when 'rating' then candidates.mean_rating
            when 'tmdb_rating' then candidates.vote_average
        end as metric_value,
        -- the second key of engagement: more events first
        case when m.metric = 'engagement' then candidates.event_count else 0 end as tie_value
    from candidates
    inner join genres on candidates.movie_id = genres.movie_id
    cross join (values ('engagement'), ('watch_time'), ('rating'), ('tmdb_rating')) as m (metric)
),

eligible as (
    select * from metric_values
    where
        metric_value is not null
        and case metric
            when 'rating' then has_activity and rating_count >= {{ var('serving_min_ratings') }}
            when 'tmdb_rating' then coalesce(vote_count, 0) >= {{ rule_rating_min_votes() }}
            else has_activity
        end
),

ranked as (
    select
        *,
        row_number() over (
            partition by period, genre, metric
            order by metric_value desc, tie_value desc, movie_id asc
        )::integer as rank
    from eligible
),

final as (
    select
        period,
        as_of_date,
        period_start_date,
        genre,
        metric,
        rank,
        movie_id,
        title,
        release_year,
        metric_value,
        engaged_users,
        event_count,
        watch_count,
        watched_s,
        completed_watch_count,
        comment_count,
        rating_count,
        mean_rating,
        positive_share,
        vote_average,
        vote_count
    from ranked
)

select * from final
