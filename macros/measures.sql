{#- Whole US dollars -> the rules' money unit (millions of USD); 0 means unknown -> null. -#}
{% macro to_musd(column) -%}
    {%- if rule_money_zero_means_unknown() | trim == 'true' -%}
        trim_scale(nullif({{ column }}, 0)::numeric / {{ rule_money_divisor() }})
    {%- else -%}
        trim_scale({{ column }}::numeric / {{ rule_money_divisor() }})
    {%- endif -%}
{%- endmacro %}

{#- Return on investment, only where the budget reaches the rules' threshold. -#}
{% macro roi_with_threshold(revenue_musd, budget_musd) -%}
    case
        when {{ budget_musd }} >= {{ rule_roi_min_budget_musd() }}
            then trim_scale({{ revenue_musd }} / {{ budget_musd }})
    end
{%- endmacro %}

{#-
  How far into the video a watch event got: playback position / duration, capped
  at 1; null when the duration is unknown. Players send watch events as heartbeats
  (watched_s is the time watched since the previous one), so the position, not
  watched_s, tells whether the video was watched to the end.
-#}
{% macro watch_completion(position_s, duration_s) -%}
    (case when {{ duration_s }} > 0 then least({{ position_s }} / {{ duration_s }}, 1) end)
{%- endmacro %}

{#- A ratio with trailing zeros of the division's scale dropped (4.0000000000000000 -> 4). -#}
{% macro ratio(numerator, denominator) -%}
    trim_scale({{ numerator }} / nullif({{ denominator }}, 0))
{%- endmacro %}
