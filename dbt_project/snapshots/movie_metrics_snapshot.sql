{% snapshot movie_metrics_snapshot %}
    {#- SCD2 history of each movie's popularity and votes: a new version whenever a
        newer TMDB payload changes one of them (dbt_valid_from/dbt_valid_to). -#}
    {{
        config(
            unique_key='movie_id',
            strategy='check',
            check_cols=['popularity', 'vote_average', 'vote_count'],
            invalidate_hard_deletes=false,
        )
    }}

    select
        movie_id,
        title,
        popularity,
        vote_average,
        vote_count,
        ingested_at as extracted_at,
        run_id
    from {{ ref('stg_movies') }}

{% endsnapshot %}
