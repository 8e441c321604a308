-- A calendar (UTC days) spanning every release date and event date.
with

movies_curated as (
    select * from {{ ref('movies_curated') }}
),

user_events as (
    select * from {{ ref('user_events') }}
),

bounds as (
    select
        min(day_date) as first_day,
        max(day_date) as last_day
    from (
        select release_date as day_date from movies_curated
        union all
        select min((event_ts at time zone 'UTC')::date) as day_date from user_events
        union all
        select max((event_ts at time zone 'UTC')::date) as day_date from user_events
    ) as candidate_days
),

spine as (
    select generate_series(first_day, last_day, interval '1 day')::date as date_day
    from bounds
    where first_day is not null
),

final as (
    select
        to_char(date_day, 'YYYYMMDD')::integer as date_key,
        date_day,
        extract(isoyear from date_day)::integer as iso_year,
        extract(year from date_day)::integer as calendar_year,
        extract(quarter from date_day)::integer as quarter_of_year,
        extract(month from date_day)::integer as month_of_year,
        trim(to_char(date_day, 'Month')) as month_name,
        extract(day from date_day)::integer as day_of_month,
        extract(isodow from date_day)::integer as day_of_week,
        trim(to_char(date_day, 'Day')) as day_name,
        extract(week from date_day)::integer as iso_week,
        extract(isodow from date_day) in (6, 7) as is_weekend
    from spine
)

select * from final
