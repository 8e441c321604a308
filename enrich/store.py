"""``moviepipe enrich``: score the comments that this scorer version has not scored yet.

Comments are read where they land — ``raw.user_events`` and ``raw.user_events_fallback``
(``event_type = 'comment'``, text in ``payload ->> 'text'``) and the MongoDB backup
``raw.mongo_comments`` (the event under ``document -> 'event'``, as staging reads it) —
deduplicated on ``event_id``. A comment needs scoring when its current score (latest
``scored_at``) is not from this scorer name and version. Each batch is scored and
upserted on ``(event_id, scorer_name, scorer_version)`` in one transaction, so a re-run
scores nothing new and a killed run resumes where it stopped.

Usage::

    summary = run_enrich(settings)            # {'run_id': ..., 'scored': 812, ...}
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from enrich.lexicon import LexiconScorer
from moviepipe import db, runlog
from moviepipe.config import Settings

STEP = "enrich"
SCORERS = {"lexicon": LexiconScorer}
DEFAULT_SCORER = "lexicon"
BATCH_SIZE = 5000

# Every comment once, the landing copy first; a uuid-shaped event id only (staging's rule).
PENDING_SQL = """
with comments as (
    select event_id, payload ->> 'text' as comment_text, 1 as priority
    from raw.user_events where event_type = 'comment'
    union all
    select event_id, payload ->> 'text', 2
    from raw.user_events_fallback where event_type = 'comment'
    union all
    select (document -> 'event' ->> 'event_id')::uuid,
           document -> 'event' -> 'payload' ->> 'text', 3
    from raw.mongo_comments
    where document -> 'event' ->> 'event_type' = 'comment'
      and document -> 'event' ->> 'event_id'
          ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
),
unique_comments as (
    select distinct on (event_id) event_id, comment_text
    from comments
    order by event_id, priority
),
current_scores as (
    select distinct on (event_id) event_id, scorer_name, scorer_version
    from raw.comment_sentiment
    order by event_id, scored_at desc, scorer_name
)
select u.event_id, coalesce(u.comment_text, '')
from unique_comments u
left join current_scores s on s.event_id = u.event_id
where s.event_id is null or s.scorer_name <> %(name)s or s.scorer_version <> %(version)s
order by u.event_id
limit %(limit)s
"""

UPSERT_SQL = """
insert into raw.comment_sentiment
    (event_id, scorer_name, scorer_version, label, score, scored_at, run_id)
values (%s, %s, %s, %s, %s, now(), %s)
on conflict (event_id, scorer_name, scorer_version) do update
    set label = excluded.label, score = excluded.score,
        scored_at = excluded.scored_at, run_id = excluded.run_id
"""


def make_scorer(name: str = DEFAULT_SCORER) -> LexiconScorer:
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; choose one of {sorted(SCORERS)}")
    return SCORERS[name]()


def score_batch(
    conn: psycopg.Connection, scorer: LexiconScorer, run_id: str, batch_size: int
) -> int:
    """Score and write one batch of pending comments in one transaction; the count written."""
    with conn.transaction():
        rows = conn.execute(
            PENDING_SQL,
            {"name": scorer.name, "version": scorer.version, "limit": batch_size},
        ).fetchall()
        if not rows:
            return 0
        scores = scorer.score_many([text for _, text in rows])
        with conn.cursor() as cur:
            cur.executemany(
                UPSERT_SQL,
                [
                    (event_id, scorer.name, scorer.version, s.label, s.score, run_id)
                    for (event_id, _), s in zip(rows, scores, strict=True)
                ],
            )
    return len(rows)


def run_enrich(
    settings: Settings,
    *,
    scorer_name: str = DEFAULT_SCORER,
    batch_size: int = BATCH_SIZE,
    dbname: str | None = None,
    scorer: LexiconScorer | None = None,
) -> dict[str, Any]:
    """Score every pending comment; logged in ``ops.run_log``; returns the summary."""
    scorer = scorer or make_scorer(scorer_name)
    run_id = runlog.new_run_id("enrich")
    start = time.monotonic()
    args = {"scorer": scorer.name, "version": scorer.version}
    with (
        db.connect(settings, "loader", dbname=dbname, autocommit=True) as conn,
        runlog.run(conn, run_id, STEP, args) as run,
    ):
        run.summary["scored"] = 0  # what a failure leaves logged
        while n := score_batch(conn, scorer, run_id, batch_size):
            run.summary["scored"] += n
        run.summary = summary = {
            "run_id": run_id,
            "scorer": scorer.name,
            "version": scorer.version,
            "scored": run.summary["scored"],
            "seconds": round(time.monotonic() - start, 2),
        }
    return summary
