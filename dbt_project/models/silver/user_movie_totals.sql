{{ lifetime_config(indexes=[
    {'columns': ['user_id']},
    {'columns': ['closed_before']},
]) }}
-- Per user and movie: the sums of silver.user_movie_days over the closed days, those
-- before closed_before (its latest value: the cutoff, a week before the latest day).
-- The marts over all history add the open days to it (macros/lifetime.sql). A run
-- moves the cutoff on and adds the days it closes (an index range on event_date) to
-- the users' totals; a user with a closed day rebuilt since this table's last run (a
-- late event) has its closed days summed again from user_movie_days (an index range
-- per user). The affected users' rows are replaced (delete+insert on user_id).
with

-- not materialized: read by index ranges, in three places
user_movie_days as not materialized (
    select * from {{ ref('user_movie_days') }}
),

{{ lifetime_cutoff_cte() }},
{%- if is_incremental() %}

    reopened as (
        -- users whose closed days changed: summed again from the start
        select distinct user_id
        from user_movie_days
        where
            _built_at > {{ built_watermark() }}
            and event_date < {{ lifetime_cutoff(this) }}
    ),

    closing as (
        -- the days this run closes, of the other users
        select user_movie_days.*
        from user_movie_days
        cross join cutoff
        where
            user_movie_days.event_date >= {{ lifetime_cutoff(this) }}
            and user_movie_days.event_date < cutoff.closed_before
            and user_movie_days.user_id not in (select reopened.user_id from reopened)
    ),

    region_rows as (
        select
            user_id,
            movie_id,
            {{ lifetime_columns() }}
        from closing
        union all
        select
            kept.user_id,
            kept.movie_id,
            {{ lifetime_columns() }}
        from {{ this }} as kept
        where kept.user_id in (select closing.user_id from closing)
        union all
        select
            user_movie_days.user_id,
            user_movie_days.movie_id,
            {{ lifetime_columns() }}
        from user_movie_days
        cross join cutoff
        where
            user_movie_days.user_id in (select reopened.user_id from reopened)
            and user_movie_days.event_date < cutoff.closed_before
    ),
{%- else %}

    region_rows as (
        select user_movie_days.*
        from user_movie_days
        cross join cutoff
        where user_movie_days.event_date < cutoff.closed_before
    ),
{%- endif %}

final as (
    select
        region_rows.user_id,
        region_rows.movie_id,
        {{ lifetime_aggregates('region_rows') }},
        cutoff.closed_before,
        {{ built_at() }} as _built_at
    from region_rows
    cross join cutoff
    group by region_rows.user_id, region_rows.movie_id, cutoff.closed_before
)

select * from final
