"""tmdb_daily: TMDB changes and the MongoDB backups into raw, dbt build, gates, publish, docs."""

from __future__ import annotations

from airflow.sdk import dag, task

from orchestration.dbt_group import dbt_build_group
from orchestration.defaults import DEFAULT_ARGS, GOLD_ASSET, START, current_run_id


@dag(
    dag_id="tmdb_daily",
    schedule="@daily",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["moviepipe", "tmdb", "warehouse"],
    doc_md="""
### tmdb_daily
The daily warehouse refresh, each task a `moviepipe` command:
`extract tmdb --changes` → `extract mongo` → `enrich` → raw gate (`rules check`) → dbt
build into `gold_build` (astronomer-cosmos: one `dbt build`, one task per model showing its
result) → gold gate and publish (`moviepipe quality`, emits the gold Asset) → `docs`.
Every step logs under this DAG run's id in `ops.run_log` (`moviepipe lineage RUN_ID`).
""",
)
def tmdb_daily():
    from orchestration.steps import run_moviepipe

    @task(doc_md="`moviepipe extract tmdb --changes`: movies changed since the bookmark.")
    def extract_tmdb_changes() -> str:
        return run_moviepipe(
            ["extract", "tmdb", "--changes", "--no-progress"], run_id=current_run_id()
        )

    @task(doc_md="`moviepipe extract mongo`: MongoDB backups into raw.mongo_*.")
    def extract_mongo() -> str:
        return run_moviepipe(["extract", "mongo"], run_id=current_run_id())

    @task(doc_md="`moviepipe enrich`: sentiment of the new comments into raw.comment_sentiment.")
    def enrich() -> str:
        return run_moviepipe(["enrich"], run_id=current_run_id())

    @task(doc_md="`moviepipe rules check`: the dbt rule macros match transform_rules.json.")
    def raw_gate() -> str:
        return run_moviepipe(["rules", "check"], run_id=current_run_id())

    @task(
        outlets=[GOLD_ASSET],
        doc_md="`moviepipe quality`: the Great Expectations checkpoints on raw, silver and "
        "the build; on a pass it publishes `gold_build` as `gold` and this task emits the "
        "gold Asset. A failure leaves the published gold as it was.",
    )
    def gate_and_publish() -> str:
        return run_moviepipe(["quality"], run_id=current_run_id())

    @task(doc_md="`moviepipe docs`: the dbt docs site under .local/docs/.")
    def docs() -> str:
        return run_moviepipe(["docs"], run_id=current_run_id())

    build = dbt_build_group()
    extract_tmdb_changes() >> extract_mongo() >> enrich() >> raw_gate() >> build
    build >> gate_and_publish() >> docs()


tmdb_daily()
