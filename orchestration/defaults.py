"""What every DAG of the project shares: owner, retries with exponential backoff, the
start date, and the Asset the publish task emits (``serving_refresh`` is scheduled on it).

Nothing here touches a database or the network: DAG files import it at parse time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset

OWNER = "moviepipe"
START = datetime(2026, 1, 1)
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}
# The published gold schema; a new event means readers see a new version.
GOLD_ASSET = Asset("postgres://warehouse/gold", group="warehouse")


def current_run_id() -> str:
    """The Airflow run id of the running task: every step of the DAG run logs under it."""
    from airflow.sdk import get_current_context

    return get_current_context()["run_id"]
