{{ lifetime_config(indexes=[{'columns': ['user_id'], 'unique': true}]) }}
-- Per user: the sums of silver.sessions (by start day) and silver.comments_scored over
-- the closed days, those before closed_before (its latest value: the cutoff of
-- user_movie_totals, a week before the latest day). user_stats and user_stats_overall
-- add the open days to it (macros/lifetime.sql). A run adds the days it closes (index
-- ranges) to the users' sums and sums again the users with a closed day rebuilt since
-- this table's last run (a late event, a late score); delete+insert on user_id.
with

{{ lifetime_cutoff_cte() }},
{%- if is_incremental() %}
    {%- set old_cutoff = lifetime_cutoff(this) %}

    reopened as (
        select user_id
        from {{ ref('sessions') }}
        where
            _built_at > {{ built_watermark() }}
            and session_start_ts < ({{ old_cutoff }}::timestamp at time zone 'UTC')
        union
        select user_id
        from {{ ref('comments_scored') }}
        where
            _built_at > {{ built_watermark() }}
            and event_date < {{ old_cutoff }}
    ),

    closing as (
        {{ user_total_rows(ref('sessions'), ref('comments_scored'), since=old_cutoff,
            before='(select cutoff.closed_before from cutoff)',
            users='not in (select reopened.user_id from reopened)') }}
    ),

    region_rows as (
        select * from closing
        union all
        select
            kept.user_id,
            kept.session_count,
            kept.session_duration_sum,
            kept.session_duration_count,
            kept.comment_count,
            kept.scored_comment_count,
            kept.positive_count,
            kept.neutral_count,
            kept.negative_count,
            kept.sentiment_score_sum,
            kept.sentiment_score_count
        from {{ this }} as kept
        where kept.user_id in (select closing.user_id from closing)
        union all
        {{ user_total_rows(ref('sessions'), ref('comments_scored'),
            before='(select cutoff.closed_before from cutoff)',
            users='in (select reopened.user_id from reopened)') }}
    ),
{%- else %}

    region_rows as (
        {{ user_total_rows(ref('sessions'), ref('comments_scored'),
            before='(select cutoff.closed_before from cutoff)') }}
    ),
{%- endif %}

final as (
    select
        region_rows.user_id,
        {{ user_total_aggregates('region_rows') }},
        cutoff.closed_before,
        {{ built_at() }} as _built_at
    from region_rows
    cross join cutoff
    group by region_rows.user_id, cutoff.closed_before
)

select * from final
