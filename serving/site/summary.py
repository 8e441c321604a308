"""The last pipeline run as ``ops.run_log``, ``ops.quality_results`` and ``ops.publish_log``
recorded it, for the docs site's summary panel.

Usage::

    from serving.site.summary import last_run
    summary = last_run(settings)   # RunSummary; empty lists when nothing has run
"""

from __future__ import annotations

from typing import Any

from moviepipe import db, pipeline
from moviepipe.config import Settings
from serving.site.build import RunSummary

LAST_PIPELINE_RUN = """
select pipeline_run_id from ops.run_log
where pipeline_run_id is not null
order by started_at desc limit 1
"""
STEPS = """
select step, run_id, status, started_at, finished_at, summary
from ops.run_log where pipeline_run_id = %s order by started_at
"""
# The gates of the newest run that recorded any: a run's gate may carry the step's own
# run id rather than the pipeline's, so "newest" is by time, not by id.
GATES = """
select run_id, checkpoint, coalesce(suite, checkpoint) as suite, layer, success,
       failed_expectations, checked_at
from ops.quality_results
where run_id = (select run_id from ops.quality_results order by checked_at desc limit 1)
order by checked_at, suite
"""
PUBLISH = """
select run_id, action, attempts, lock_wait_ms, published_at
from ops.publish_log order by publish_id desc limit 1
"""


def last_run(settings: Settings) -> RunSummary:
    """What the site shows about the newest run; a database without runs gives empties."""
    with db.connect(settings, "admin", autocommit=True) as conn:
        row = conn.execute(LAST_PIPELINE_RUN).fetchone()
        run_id = row[0] if row else None
        steps = _dicts(conn.execute(STEPS, (run_id,))) if run_id else []
        gates = _dicts(conn.execute(GATES))
        published = _dicts(conn.execute(PUBLISH))
    return RunSummary(
        pipeline_run_id=run_id,
        steps=steps,
        gates=gates,
        rows=pipeline.warehouse_summary(settings),
        publish=published[0] if published else None,
    )


def _dicts(cur: Any) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
