{#-
  The user_stats measures over `activity` rows (one per user or one overall) already
  joined to their session, comment and genre summaries; shared by user_stats and
  user_stats_overall so the two never disagree.
-#}
{% macro user_stats_columns() -%}
        first_event_ts,
        last_event_ts,
        session_count,
        event_count,
        mean_session_duration_s,
        watch_count,
        watched_s,
        completed_watch_count,
        {{ share('completed_watch_count', 'timed_watch_count') }} as completion_rate,
        movie_count,
        favourite_genres,
        comment_count,
        scored_comment_count,
        positive_count,
        neutral_count,
        negative_count,
        {{ share('positive_count', 'scored_comment_count') }} as positive_share,
        {{ share('neutral_count', 'scored_comment_count') }} as neutral_share,
        {{ share('negative_count', 'scored_comment_count') }} as negative_share,
        mean_sentiment_score,
        mean_rating
{%- endmacro %}

{#-
  The whole user_stats model; per_user=false aggregates every user into one row.
  Over all history, rebuilt every run, from a row per user and movie (lifetime_pairs():
  silver.user_movie_totals plus the open days), not from the events or the days.
-#}
{% macro user_stats_model(per_user) -%}
{%- set key = 'user_id' if per_user else "'all'::text" -%}
with

user_movie_lifetime as (
    {{ lifetime_pairs() }}
),

user_lifetime_totals as (
    -- sessions and comments per user over all history
    {{ lifetime_user_totals() }}
),

stg_movie_genres as (
    select * from {{ ref('stg_movie_genres') }}
),

activity as (
    select
        {{ key }} as scope_key,
        count(distinct user_id)::integer as user_count,
        min(first_event_ts) as first_event_ts,
        max(last_event_ts) as last_event_ts,
        sum(event_count)::integer as event_count,
        sum(watch_count)::integer as watch_count,
        coalesce(sum(watched_s), 0) as watched_s,
        sum(completed_watch_count)::integer as completed_watch_count,
        -- is_completed is null for a watch without a known duration: not in the rate
        sum(timed_watch_count)::integer as timed_watch_count,
        count(distinct movie_id)::integer as movie_count,
        round(sum(rating_sum) / nullif(sum(rating_count), 0), 4) as mean_rating
    from user_movie_lifetime
    group by 1
),

session_summary as (
    select
        {{ key }} as scope_key,
        sum(session_count)::integer as session_count,
        round(sum(session_duration_sum) / nullif(sum(session_duration_count), 0), 4)
            as mean_session_duration_s
    from user_lifetime_totals
    group by 1
),

comment_summary as (
    select
        {{ key }} as scope_key,
        sum(comment_count)::integer as comment_count,
        sum(scored_comment_count)::integer as scored_comment_count,
        sum(positive_count)::integer as positive_count,
        sum(neutral_count)::integer as neutral_count,
        sum(negative_count)::integer as negative_count,
        round(sum(sentiment_score_sum) / nullif(sum(sentiment_score_count), 0), 4)
            as mean_sentiment_score
    from user_lifetime_totals
    group by 1
),

genre_activity as (
    select
        {{ key }} as scope_key,
        stg_movie_genres.genre_name,
        coalesce(sum(user_movie_lifetime.watched_s), 0) as watched_s,
        sum(user_movie_lifetime.event_count) as event_count
    from user_movie_lifetime
    inner join stg_movie_genres on user_movie_lifetime.movie_id = stg_movie_genres.movie_id
    group by 1, 2
),

genre_ranks as (
    select
        scope_key,
        genre_name,
        row_number() over (
            partition by scope_key order by watched_s desc, event_count desc, genre_name asc
        ) as genre_rank
    from genre_activity
),

favourites as (
    select
        scope_key,
        string_agg(genre_name, {{ rule_list_separator() }} order by genre_rank) as favourite_genres
    from genre_ranks
    where genre_rank <= 3
    group by scope_key
),

joined as (
    select
        activity.*,
        coalesce(session_summary.session_count, 0) as session_count,
        session_summary.mean_session_duration_s,
        coalesce(comment_summary.comment_count, 0) as comment_count,
        coalesce(comment_summary.scored_comment_count, 0) as scored_comment_count,
        coalesce(comment_summary.positive_count, 0) as positive_count,
        coalesce(comment_summary.neutral_count, 0) as neutral_count,
        coalesce(comment_summary.negative_count, 0) as negative_count,
        comment_summary.mean_sentiment_score,
        favourites.favourite_genres
    from activity
    left join session_summary on activity.scope_key = session_summary.scope_key
    left join comment_summary on activity.scope_key = comment_summary.scope_key
    left join favourites on activity.scope_key = favourites.scope_key
),

final as (
    select
        {%- if per_user %}
        scope_key as user_id,
        {%- else %}
        user_count,
        {%- endif %}
        {{ user_stats_columns() }}
    from joined
)

select * from final
{%- endmacro %}
