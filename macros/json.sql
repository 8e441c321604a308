{#- A jsonb value when it is an array, else an empty array: safe to unnest with jsonb_array_elements. -#}
{% macro jsonb_array_or_empty(expr) -%}
    (case when jsonb_typeof({{ expr }}) = 'array' then {{ expr }} else '[]'::jsonb end)
{%- endmacro %}
