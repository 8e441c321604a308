{#-
  Models land exactly in the schema their folder names (staging, silver, gold,
  snapshots), never in "<target schema>_<custom schema>": the schemas are created
  and granted by `moviepipe.db.bootstrap`, and readers look for them by name.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
