"""streaming_supervisor: Spark heartbeat, backup consumer, pandas fallback when allowed."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from moviepipe.config import load_settings
from orchestration.defaults import DEFAULT_ARGS, START, current_run_id

# Read from config/moviepipe.yaml (a local file; no database or network at parse time).
EVERY = timedelta(minutes=load_settings().tunables.orchestration.supervisor_every_min)


@dag(
    dag_id="streaming_supervisor",
    schedule=EVERY,
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["moviepipe", "streaming"],
    doc_md="""
### streaming_supervisor
Every few minutes: drains the Kafka topics into the MongoDB backup
(`stream backup --available-now`), reads Spark's heartbeat and both lags, records them
(`ops.stream_heartbeat`, `ops.run_log`), and runs `stream fallback --available-now`
only when the heartbeat is stale **and** the Variable `use_pandas_fallback` is true.
Fallback rows wait for `promote_fallback`.
""",
)
def streaming_supervisor():
    @task(doc_md="`moviepipe stream backup --available-now`: the MongoDB backup keeps up.")
    def backup() -> str:
        from orchestration.steps import run_moviepipe

        return run_moviepipe(["stream", "backup", "--available-now"], run_id=current_run_id())

    @task(doc_md="Reads heartbeat and lags, decides, records the lag (always).")
    def check() -> str:
        from airflow.sdk import Variable

        from moviepipe.config import load_settings
        from orchestration import supervisor

        settings = load_settings()
        reading = supervisor.read(settings)
        action = supervisor.decide(
            heartbeat_age_s=reading.heartbeat_age_s,
            stale_after_s=settings.tunables.orchestration.heartbeat_stale_after_s,
            use_pandas_fallback=supervisor.parse_flag(
                Variable.get("use_pandas_fallback", default="false")
            ),
        )
        supervisor.record_lag(settings, current_run_id(), reading, action)
        print(f"reading {reading.as_dict()} -> {action}")
        return action

    @task.branch(doc_md="Fallback or nothing, from the decision.")
    def choose(action: str) -> str:
        return "fallback" if action == "fallback" else "healthy"

    @task(doc_md="`moviepipe stream fallback --available-now` into raw.user_events_fallback.")
    def fallback() -> str:
        from orchestration.steps import run_moviepipe

        return run_moviepipe(["stream", "fallback", "--available-now"], run_id=current_run_id())

    @task(doc_md="Spark is healthy or the fallback is not allowed: nothing to do.")
    def healthy() -> None:
        return None

    choose(backup() >> check()) >> [fallback(), healthy()]


streaming_supervisor()
