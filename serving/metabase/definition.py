"""The dashboard definition (``dashboard.yml``) and the Metabase API bodies built from it.

Pure functions only: no HTTP here, so every body can be checked without a server.

Usage::

    from serving.metabase.definition import load_definition, card_body
    definition = load_definition()            # serving/metabase/dashboard.yml
    body = card_body(definition.questions[0], database_id=2)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFINITION_FILE = Path(__file__).with_name("dashboard.yml")
GRID_COLUMNS = 24  # Metabase's dashboard grid since v0.47


class DefinitionError(ValueError):
    """The dashboard file is missing, not YAML, or does not match the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseDef(_Strict):
    name: str
    engine: Literal["postgres"] = "postgres"
    schema_: str = Field(alias="schema")


class QuestionDef(_Strict):
    name: str
    description: str = ""
    display: Literal["table", "bar", "line", "row", "pie", "scalar", "area"]
    sql: str
    visualization_settings: dict[str, Any] = Field(default_factory=dict)


class DashcardDef(_Strict):
    question: str
    row: int = Field(ge=0)
    col: int = Field(ge=0, lt=GRID_COLUMNS)
    size_x: int = Field(ge=1, le=GRID_COLUMNS)
    size_y: int = Field(ge=1)

    @model_validator(mode="after")
    def _fits_the_grid(self) -> DashcardDef:
        if self.col + self.size_x > GRID_COLUMNS:
            raise ValueError(f"{self.question!r} is wider than the {GRID_COLUMNS}-column grid")
        return self


class DashboardDef(_Strict):
    name: str
    description: str = ""
    cards: list[DashcardDef]


class Definition(_Strict):
    database: DatabaseDef
    questions: list[QuestionDef]
    dashboard: DashboardDef

    @model_validator(mode="after")
    def _names_resolve(self) -> Definition:
        names = [q.name for q in self.questions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"questions named twice: {duplicates}")
        unknown = sorted({c.question for c in self.dashboard.cards} - set(names))
        if unknown:
            raise ValueError(f"dashboard cards name unknown questions: {unknown}")
        return self


def load_definition(path: Path = DEFINITION_FILE) -> Definition:
    """Parse and validate the dashboard file; raises :class:`DefinitionError`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Definition.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DefinitionError(f"{path}: {exc}") from exc


def setup_body(token: str, email: str, password: str, site_name: str) -> dict[str, Any]:
    """``POST /api/setup``: the first admin user, on a Metabase that has none."""
    return {
        "token": token,
        "user": {
            "email": email,
            "password": password,
            "first_name": "moviepipe",
            "last_name": "admin",
            "site_name": site_name,
        },
        "prefs": {"site_name": site_name, "allow_tracking": False},
    }


def database_body(db: DatabaseDef, connection: dict[str, Any]) -> dict[str, Any]:
    """``POST /api/database`` and ``PUT /api/database/:id``: the warehouse, one schema only.

    ``connection`` holds host, port, dbname, user and password (the reader role).
    """
    return {
        "engine": db.engine,
        "name": db.name,
        "details": {
            **connection,
            "ssl": False,
            "tunnel-enabled": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": db.schema_,
        },
        "is_full_sync": True,
        "auto_run_queries": True,
    }


def card_body(question: QuestionDef, database_id: int) -> dict[str, Any]:
    """``POST /api/card`` and ``PUT /api/card/:id``: a native SQL question."""
    return {
        "name": question.name,
        "description": question.description or None,
        "display": question.display,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": question.sql.strip(), "template-tags": {}},
        },
        "visualization_settings": question.visualization_settings,
    }


def card_differs(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a card Metabase holds differs from the definition in what the file sets.

    Metabase adds its own keys to a stored query, so only the defined ones are compared.
    """
    query, wanted_query = existing.get("dataset_query") or {}, wanted["dataset_query"]
    return (
        existing.get("description") != wanted["description"]
        or existing.get("display") != wanted["display"]
        or (existing.get("visualization_settings") or {}) != wanted["visualization_settings"]
        or query.get("database") != wanted_query["database"]
        or (query.get("native") or {}).get("query") != wanted_query["native"]["query"]
    )


def dashcards(
    layout: list[DashcardDef],
    card_ids: dict[str, int],
    existing: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The ``dashcards`` list of ``PUT /api/dashboard/:id``.

    A dashcard already showing the same card keeps its id (so Metabase updates it in
    place); new ones get negative ids, which Metabase reads as "create". Dashcards left
    out of the list are removed by Metabase, so the dashboard ends up exactly as defined.
    """
    free: dict[int, list[int]] = {}
    for dashcard in sorted(existing, key=lambda d: d["id"]):
        if dashcard.get("card_id") is not None:
            free.setdefault(dashcard["card_id"], []).append(dashcard["id"])
    out, new_id = [], 0
    for entry in layout:
        card_id = card_ids[entry.question]
        reusable = free.get(card_id)
        if reusable:
            dashcard_id = reusable.pop(0)
        else:
            new_id -= 1
            dashcard_id = new_id
        out.append(
            {
                "id": dashcard_id,
                "card_id": card_id,
                "row": entry.row,
                "col": entry.col,
                "size_x": entry.size_x,
                "size_y": entry.size_y,
                "series": [],
                "parameter_mappings": [],
                "visualization_settings": {},
            }
        )
    return out


def dashcards_differ(existing: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    """Whether the dashboard's cards differ from the definition (ids, cards or places)."""
    keys = ("id", "card_id", "row", "col", "size_x", "size_y")

    def shape(cards: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(tuple(c.get(k) for k in keys) for c in cards)

    return shape(existing) != shape(wanted)
