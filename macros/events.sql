{#-
  The typed columns of one front-end event, unpacked from an envelope (the
  columns of raw.user_events) and its jsonb payload. `prefix` points at the
  envelope: '' for the raw.user_events* tables, a jsonb expression such as
  "document -> 'event'" for the MongoDB copies (every value is then text and cast).
-#}
{% macro event_columns(envelope=none, payload='payload') -%}
    {%- if envelope is none -%}
        event_id,
        event_type,
        event_ts,
        user_id,
        session_id as client_session_id,
        movie_id,
    {%- else -%}
        {{ safe_uuid("(" ~ envelope ~ " ->> 'event_id')") }} as event_id,
        ({{ envelope }} ->> 'event_type') as event_type,
        {{ safe_timestamptz("(" ~ envelope ~ " ->> 'event_ts')") }} as event_ts,
        ({{ envelope }} ->> 'user_id') as user_id,
        ({{ envelope }} ->> 'session_id') as client_session_id,
        {{ safe_bigint("(" ~ envelope ~ " ->> 'movie_id')") }} as movie_id,
    {%- endif %}
        {{ safe_numeric("(" ~ payload ~ " ->> 'position_s')") }} as position_s,
        {{ safe_numeric("(" ~ payload ~ " ->> 'duration_s')") }} as duration_s,
        {{ safe_numeric("(" ~ payload ~ " ->> 'watched_s')") }} as watched_s,
        ({{ payload }} ->> 'target') as click_target,
        ({{ payload }} ->> 'page') as click_page,
        ({{ payload }} ->> 'comment_id') as comment_id,
        ({{ payload }} ->> 'text') as comment_text,
        {{ safe_numeric("(" ~ payload ~ " ->> 'rating')") }} as rating,
        ({{ payload }} ->> 'action') as update_action,
        ({{ payload }} -> 'fields') as update_fields
{%- endmacro %}

{#- The landing metadata a staged event carries after its event_columns(). -#}
{% macro event_landing_columns() -%}
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        ingested_at,
        run_id,
        source_flag
{%- endmacro %}

{#-
  The names of a staged event's columns in staging's order: what event_columns()
  yields, then event_landing_columns(). Every event staging model has them.
-#}
{% macro staged_event_column_names() -%}
        event_id,
        event_type,
        event_ts,
        user_id,
        client_session_id,
        movie_id,
        position_s,
        duration_s,
        watched_s,
        click_target,
        click_page,
        comment_id,
        comment_text,
        rating,
        update_action,
        update_fields,
        {{ event_landing_columns() }}
{%- endmacro %}

{#- Staging of an event landing table (raw.user_events, raw.user_events_fallback). -#}
{% macro stg_landed_events(source_relation) -%}
with

landed as (
    select * from {{ source_relation }}
),

final as (
    select
        {{ event_columns() }},
        {{ event_landing_columns() }}
    from landed
)

select * from final
{%- endmacro %}

{#- Casts that yield null instead of failing the whole model on one bad value. -#}
{% macro safe_numeric(expr) -%}
    (case when {{ expr }} ~ '^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$' then ({{ expr }})::numeric end)
{%- endmacro %}

{% macro safe_bigint(expr) -%}
    (case when {{ expr }} ~ '^\s*-?[0-9]{1,18}\s*$' then ({{ expr }})::bigint end)
{%- endmacro %}

{% macro safe_uuid(expr) -%}
    (case
        when {{ expr }} ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
            then ({{ expr }})::uuid
    end)
{%- endmacro %}

{% macro safe_timestamptz(expr) -%}
    (case
        when {{ expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}'
            then ({{ expr }})::timestamptz
    end)
{%- endmacro %}

{% macro safe_date(expr) -%}
    (case when {{ expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then ({{ expr }})::date end)
{%- endmacro %}

{#- The UTC calendar day of a timestamptz as an integer key yyyymmdd (dim_date). -#}
{% macro date_key(ts) -%}
    (to_char(({{ ts }} at time zone 'UTC'), 'YYYYMMDD')::integer)
{%- endmacro %}

{#-
  The conformed columns of an event (silver.user_events, and the fallback fact
  built straight from staging): type-specific measures only on their own type,
  watch completion against the rules' threshold, the landing time as _loaded_at.
-#}
{% macro conformed_event_columns() -%}
        event_id,
        event_type,
        event_ts,
        user_id,
        client_session_id,
        movie_id,
        case when event_type = 'watch' then watched_s end as watched_s,
        case when event_type = 'watch' then position_s end as position_s,
        case when event_type = 'watch' then duration_s end as duration_s,
        case when event_type = 'watch' then {{ watch_completion('position_s', 'duration_s') }} end
            as watch_completion,
        case
            when event_type = 'watch' and duration_s > 0
                then {{ watch_completion('position_s', 'duration_s') }} >= {{ rule_watch_completion_threshold() }}
        end as is_completed,
        case when event_type = 'click' then click_target end as click_target,
        case when event_type = 'click' then click_page end as click_page,
        case when event_type = 'comment' then comment_id end as comment_id,
        case when event_type = 'comment' then comment_text end as comment_text,
        -- comments carry an optional rating (a replayed MovieLens watch drops its star rating:
        -- the contract has no rating on watch events)
        rating,
        case when event_type = 'movie_update' then update_action end as update_action,
        case when event_type = 'movie_update' then update_fields end as update_fields,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        source_flag,
        run_id,
        ingested_at as _loaded_at
{%- endmacro %}

{#- The event fact's columns over a sessionized event CTE `e` and dim_movie `m`. -#}
{% macro event_fact_columns() -%}
        e.event_id,
        e.event_type,
        e.event_ts,
        {{ date_key('e.event_ts') }} as date_key,
        e.user_id,
        e.session_key,
        e.client_session_id,
        e.movie_id,
        m.movie_id as movie_key,
        e.watched_s,
        e.watch_completion,
        e.is_completed,
        e.rating,
        e.click_target,
        e.comment_id,
        e.update_action,
        e.source_flag,
        e.kafka_topic,
        e.kafka_partition,
        e.kafka_offset,
        e._loaded_at
{%- endmacro %}
