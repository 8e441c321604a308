-- Events landed by the pandas fallback (kept apart from the Spark landing), payload unpacked.
with

user_events_fallback as (
    select * from {{ source('raw', 'user_events_fallback') }}
),

final as (
    select
        {{ event_columns() }},
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        ingested_at,
        run_id,
        source_flag
    from user_events_fallback
)

select * from final
