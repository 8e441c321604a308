{#- A part of a whole as a share rounded to 4 decimals; null when the whole is 0. -#}
{% macro share(part, whole) -%}
    round(({{ part }})::numeric / nullif({{ whole }}, 0), 4)
{%- endmacro %}

{#- Counts and shares of each sentiment label over rows of comments_scored. -#}
{% macro sentiment_measures(label='sentiment_label', score='sentiment_score') -%}
        count(*)::integer as comment_count,
        count({{ label }})::integer as scored_count,
        count(*) filter (where {{ label }} = 'positive')::integer as positive_count,
        count(*) filter (where {{ label }} = 'neutral')::integer as neutral_count,
        count(*) filter (where {{ label }} = 'negative')::integer as negative_count,
        {{ share("count(*) filter (where " ~ label ~ " = 'positive')", "count(" ~ label ~ ")") }}
            as positive_share,
        {{ share("count(*) filter (where " ~ label ~ " = 'neutral')", "count(" ~ label ~ ")") }}
            as neutral_share,
        {{ share("count(*) filter (where " ~ label ~ " = 'negative')", "count(" ~ label ~ ")") }}
            as negative_share,
        round(avg({{ score }}), 4) as mean_sentiment_score
{%- endmacro %}
