-- Comment sentiment per scorer version, as written by `moviepipe enrich`.
with

comment_sentiment as (
    select * from {{ source('raw', 'comment_sentiment') }}
),

final as (
    select
        event_id,
        scorer_name,
        scorer_version,
        label as sentiment_label,
        score as sentiment_score,
        scored_at,
        run_id
    from comment_sentiment
)

select * from final
