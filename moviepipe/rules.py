"""Business rules from ``transform_rules.json``: the one Python loader.

The Spark job, the pandas fallback and the dbt macro generator all read the
rules through :func:`load_rules`, so a rule changes in one place only.

Usage::

    from moviepipe.rules import load_rules
    rules = load_rules()
    rules.sessions.inactivity_gap_minutes   # 30
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from moviepipe.config import PROJECT_DIR

DEFAULT_RULES_PATH = PROJECT_DIR / "transform_rules.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MoneyRules(_Frozen):
    unit: str
    divisor: int = Field(gt=0)
    zero_means_unknown: bool


class MovieRules(_Frozen):
    released_statuses: tuple[str, ...]
    roi_min_budget_musd: float = Field(ge=0)
    rating_min_votes: int = Field(ge=0)
    kpi_top_n: int = Field(gt=0)
    top_cast_size: int = Field(gt=0)
    director_jobs: tuple[str, ...]
    list_separator: str


class EventRules(_Frozen):
    valid_event_types: tuple[str, ...]
    topic_by_event_type: dict[str, str]
    max_future_skew_seconds: int = Field(ge=0)
    max_message_bytes: int = Field(gt=0)
    click_targets: tuple[str, ...]
    movie_update_actions: tuple[str, ...]
    rating_min: float
    rating_max: float
    comment_max_chars: int = Field(gt=0)


class SessionRules(_Frozen):
    inactivity_gap_minutes: int = Field(gt=0)


class WatchRules(_Frozen):
    completion_threshold: float = Field(gt=0, le=1)


class IncrementalRules(_Frozen):
    lookback_hours: int = Field(ge=0)


class Rules(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    comment: str = Field(default="", alias="$comment")
    version: int
    money: MoneyRules
    movies: MovieRules
    events: EventRules
    sessions: SessionRules
    watch: WatchRules
    incremental: IncrementalRules


def load_rules(path: Path | str | None = None) -> Rules:
    """Parse and validate the rules file; a malformed file fails loudly here."""
    with open(path or DEFAULT_RULES_PATH, encoding="utf-8") as fh:
        return Rules.model_validate(json.load(fh))
