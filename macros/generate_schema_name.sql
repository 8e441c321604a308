{#-
  Models land exactly in the schema their folder names (staging, silver,
  snapshots), never in "<target schema>_<custom schema>": the schemas are created
  and granted by `moviepipe.db.bootstrap`, and readers look for them by name.

  gold is the exception (write-audit-publish, docs/quality.md): dbt never writes
  the published `gold`. Gold models build into the build schema (var
  `gold_build_schema`, default gold_build); `moviepipe quality` validates it and
  only a pass renames it to gold (quality/publish.py). The three physical
  schemas rotate through the names gold_build -> gold -> gold_previous, so an
  incremental model (fact_user_event) always finds its own earlier state in the
  physical schema it is built in and catches up from raw, which is append-only.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif custom_schema_name | trim == 'gold' -%}
        {{ var('gold_build_schema', 'gold_build') }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
