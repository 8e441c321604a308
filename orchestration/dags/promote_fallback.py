"""promote_fallback: an operator promotes one pandas fallback run into raw.user_events."""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from orchestration.defaults import DEFAULT_ARGS, START


@dag(
    dag_id="promote_fallback",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={**DEFAULT_ARGS, "retries": 0},
    tags=["moviepipe", "streaming", "manual"],
    params={"run_id": Param("", type="string", minLength=1, description="Fallback run id")},
    doc_md="""
### promote_fallback
Manual. `moviepipe stream promote-fallback RUN_ID`: copies one fallback run into
`raw.user_events` (existing events skipped, recorded in `ops.fallback_promotions`;
safe to repeat). Trigger with the `run_id` parameter.
""",
)
def promote_fallback():
    @task(doc_md="Promotes the fallback run named by the `run_id` parameter.")
    def promote(params: dict | None = None) -> str:
        from orchestration.steps import run_moviepipe

        return run_moviepipe(["stream", "promote-fallback", params["run_id"], "--by", "airflow"])

    promote()


promote_fallback()
