-- A calendar of UTC days from the earliest release date (1870 at the latest) to a year
-- from today: every release and event date has its row without reading the events,
-- so the calendar is not rebuilt on every event refresh.
with

movies_curated as (
    select * from {{ ref('movies_curated') }}
),

bounds as (
    select
        least(min(release_date), date '1870-01-01') as first_day,
        (current_date + interval '366 days')::date as last_day
    from movies_curated
),

spine as (
    select generate_series(first_day, last_day, interval '1 day')::date as date_day
    from bounds
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
