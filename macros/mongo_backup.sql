{#-
  Staging of the MongoDB backups of the Kafka topics (raw.mongo_user_logs,
  raw.mongo_comments). A backup document is
      {"_id": "topic:partition:offset", "topic", "partition", "offset",
       "kafka_timestamp", "event": {...the decoded event envelope...},
       "valid": bool, "reason", ...}   (streaming/backup.py writes it)
  The envelope is read from `event`, else `value` when that is an object, else the
  document itself, so older or simpler backup shapes stage too; values are cast
  defensively (a malformed document yields nulls, which silver filters out).
-#}
{% macro stg_mongo_backup(source_relation) -%}
with

backup as (
    select * from {{ source_relation }}
),

enveloped as (
    select
        doc_id,
        document,
        case
            when jsonb_typeof(document -> 'event') = 'object' then document -> 'event'
            when jsonb_typeof(document -> 'value') = 'object' then document -> 'value'
            else document
        end as envelope,
        ingested_at,
        run_id,
        source_flag
    from backup
),

final as (
    select
        doc_id,
        {{ event_columns(envelope='envelope', payload="(envelope -> 'payload')") }},
        coalesce(document ->> 'topic', split_part(doc_id, ':', 1)) as kafka_topic,
        {{ safe_bigint("coalesce(document ->> 'partition', split_part(doc_id, ':', 2))") }}::integer
            as kafka_partition,
        {{ safe_bigint("coalesce(document ->> 'offset', split_part(doc_id, ':', 3))") }} as kafka_offset,
        {{ safe_timestamptz("(document ->> 'kafka_timestamp')") }} as kafka_timestamp,
        case
            when lower(document ->> 'valid') in ('true', 'false') then (document ->> 'valid')::boolean
        end as backup_valid,
        ingested_at,
        run_id,
        source_flag
    from enveloped
)

select * from final
{%- endmacro %}
