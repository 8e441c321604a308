-- Movies ranked per period, genre and metric (GET /api/top_movies): engagement and watch
-- time from the events, users' ratings, and TMDB's rating; see docs/enrich.md.
-- Over all history, rebuilt every run, not from the events: the `all` period from a row
-- per user and movie (lifetime_pairs(): silver.user_movie_totals plus the open days),
-- the 7d/30d/90d periods from those days of silver.user_movie_days; positive_share over
-- all history from emotion_trends' weekly counts per movie.
with

-- not materialized: read twice, for its first and last day by index and for the periods
user_movie_days as not materialized (
    select * from {{ ref('user_movie_days') }}
),

user_movie_lifetime as (
    {{ lifetime_pairs() }}
),

comments_scored as (
    select * from {{ ref('comments_scored') }}
),

emotion_trends as (
    select * from {{ ref('emotion_trends') }}
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

activity_rows as (
    -- the period's rows: a (user, movie) pair over all history, a (user, movie, day) else
    select
        'all' as period,
        user_id,
        movie_id,
        event_count,
        watch_count,
        watched_s,
        completed_watch_count,
        comment_count,
        rating_count,
        rating_sum
    from user_movie_lifetime
    union all
    select
        periods.period,
        user_movie_days.user_id,
        user_movie_days.movie_id,
        user_movie_days.event_count,
        user_movie_days.watch_count,
        user_movie_days.watched_s,
        user_movie_days.completed_watch_count,
        user_movie_days.comment_count,
        user_movie_days.rating_count,
        user_movie_days.rating_sum
    from user_movie_days
    inner join periods
        on
            periods.period <> 'all'
            and user_movie_days.event_date >= periods.period_start_date
),

movie_activity as (
    select
        activity_rows.period,
        activity_rows.movie_id,
        count(distinct activity_rows.user_id)::integer as engaged_users,
        sum(activity_rows.event_count)::integer as event_count,
        sum(activity_rows.watch_count)::integer as watch_count,
        coalesce(sum(activity_rows.watched_s), 0) as watched_s,
        sum(activity_rows.completed_watch_count)::integer as completed_watch_count,
        sum(activity_rows.comment_count)::integer as comment_count,
        sum(activity_rows.rating_count)::integer as rating_count,
        round(sum(activity_rows.rating_sum) / nullif(sum(activity_rows.rating_count), 0), 4) as mean_rating
    from activity_rows
    -- the fact's movie_key: the movie when it is in dim_movie
    where activity_rows.movie_id in (select dim_movie.movie_id from dim_movie)
    group by activity_rows.period, activity_rows.movie_id
),

movie_sentiment as (
    -- all: the sums of emotion_trends' weeks per movie (its counts of comments_scored);
    -- the other periods: their days of comments_scored (an index range)
    select
        'all' as period,
        movie_weeks.movie_id,
        {{ share('sum(movie_weeks.positive_count)', 'sum(movie_weeks.scored_count)') }} as positive_share
    from emotion_trends as movie_weeks
    where movie_weeks.scope = 'movie' and movie_weeks.granularity = 'week'
    group by movie_weeks.movie_id
    union all
    select
        periods.period,
        comments_scored.movie_id,
        {{ share("count(*) filter (where comments_scored.sentiment_label = 'positive')",
                 "count(comments_scored.sentiment_label)") }} as positive_share
    from comments_scored
    inner join periods
        on
            periods.period <> 'all'
            and comments_scored.event_date >= periods.period_start_date
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
