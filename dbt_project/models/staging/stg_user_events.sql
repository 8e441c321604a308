-- Events landed by Spark (or promoted from the fallback), payload unpacked into typed columns.
with

user_events as (
    select * from {{ source('raw', 'user_events') }}
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
    from user_events
)

select * from final
