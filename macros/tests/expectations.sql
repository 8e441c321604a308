{#-
  Expectation-style generic tests, written for this project (the dbt Hub is not
  reachable). Names and arguments follow dbt-expectations so the YAML reads the
  same as it would with that package; each test returns the offending rows.
-#}

{% test expect_column_values_to_be_between(model, column_name, min_value=none, max_value=none, row_condition=none, strictly=false) %}
    {%- set lt = '<' if strictly else '<=' -%}
    select {{ column_name }} as offending_value
    from {{ model }}
    where
        {{ column_name }} is not null
        {%- if row_condition %} and ({{ row_condition }}){% endif %}
        and not (
            true
            {%- if min_value is not none %} and {{ min_value }} {{ lt }} {{ column_name }}{% endif %}
            {%- if max_value is not none %} and {{ column_name }} {{ lt }} {{ max_value }}{% endif %}
        )
{% endtest %}

{% test expect_table_row_count_to_be_between(model, min_value=none, max_value=none, row_condition=none) %}
    with counted as (
        select count(*) as row_count
        from {{ model }}
        {%- if row_condition %} where {{ row_condition }}{% endif %}
    )

    select row_count
    from counted
    where
        false
        {%- if min_value is not none %} or row_count < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or row_count > {{ max_value }}{% endif %}
{% endtest %}

{% test expect_column_pair_values_A_to_be_greater_than_B(model, column_A, column_B, or_equal=false, row_condition=none) %}
    select {{ column_A }} as value_a, {{ column_B }} as value_b
    from {{ model }}
    where
        {{ column_A }} is not null
        and {{ column_B }} is not null
        {%- if row_condition %} and ({{ row_condition }}){% endif %}
        and not ({{ column_A }} {{ '>=' if or_equal else '>' }} {{ column_B }})
{% endtest %}

{% test expect_column_values_to_be_in_set(model, column_name, value_set, quote_values=true, row_condition=none) %}
    select {{ column_name }} as offending_value
    from {{ model }}
    where
        {{ column_name }} is not null
        {%- if row_condition %} and ({{ row_condition }}){% endif %}
        and {{ column_name }} not in (
            {%- for v in value_set -%}
                {%- if quote_values -%}'{{ v | replace("'", "''") }}'{%- else -%}{{ v }}{%- endif -%}
                {{- ", " if not loop.last -}}
            {%- endfor -%}
        )
{% endtest %}

{% test expect_column_values_to_match_regex(model, column_name, regex, row_condition=none) %}
    select {{ column_name }} as offending_value
    from {{ model }}
    where
        {{ column_name }} is not null
        {%- if row_condition %} and ({{ row_condition }}){% endif %}
        and not ({{ column_name }}::text ~ '{{ regex | replace("'", "''") }}')
{% endtest %}

{% test expect_compound_columns_to_be_unique(model, column_list, row_condition=none) %}
    select {{ column_list | join(', ') }}, count(*) as occurrences
    from {{ model }}
    {%- if row_condition %} where {{ row_condition }}{% endif %}
    group by {{ column_list | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test expect_column_values_to_be_increasing(model, column_name, sort_column, strictly=true, group_by=none) %}
    with ordered as (
        select
            {{ column_name }} as current_value,
            lag({{ column_name }}) over (
                {%- if group_by %} partition by {{ group_by | join(', ') }}{% endif %}
                order by {{ sort_column }}
            ) as previous_value
        from {{ model }}
    )

    select current_value, previous_value
    from ordered
    where
        previous_value is not null
        and not (current_value {{ '>' if strictly else '>=' }} previous_value)
{% endtest %}
