"""serving_refresh: charts and the docs site after every publish of gold."""

from __future__ import annotations

from airflow.sdk import dag, task

from orchestration.defaults import DEFAULT_ARGS, GOLD_ASSET, START, current_run_id


@dag(
    dag_id="serving_refresh",
    schedule=[GOLD_ASSET],
    start_date=START,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["moviepipe", "serving"],
    doc_md="""
### serving_refresh
Scheduled on the gold Asset that `tmdb_daily`'s publish emits: rebuilds the PNG charts
(`moviepipe charts`) and the docs site (`moviepipe docs`), so what people look at follows
each publish.
""",
)
def serving_refresh():
    from orchestration.steps import run_moviepipe

    @task(doc_md="`moviepipe charts`: PNG charts from gold into .local/docs/charts/.")
    def charts() -> str:
        return run_moviepipe(["charts"], run_id=current_run_id())

    @task(doc_md="`moviepipe docs`: one site, .local/docs/index.html.")
    def docs_site() -> str:
        return run_moviepipe(["docs"], run_id=current_run_id())

    charts() >> docs_site()


serving_refresh()
