"""The field kinds of the event contract: one table, from which every engine derives its checks.

A field of :data:`~moviepipe.events.fields.ENVELOPE_FIELDS` or
:data:`~moviepipe.events.fields.PAYLOAD_FIELDS` names a *kind* ("uuid",
"rating", "text", ...). Each kind is one :class:`FieldKind` in :data:`KINDS`,
declared by its JSON type and its constraints (a pattern, allowed values, length
and numeric bounds, a parse to a typed value). A constraint may come from
``transform_rules.json`` (:class:`FromRules`). Everything else is derived:

* the reference's check (:meth:`FieldKind.check`): the first rule a value breaks,
  or its typed value (:mod:`moviepipe.events.reference`);
* the words of each broken rule (:meth:`FieldKind.problems`, used by
  :mod:`moviepipe.events.details`);
* the JSON Schema fragment (:meth:`FieldKind.json_schema`, :mod:`moviepipe.events.schema`);
* the Arrow screen's view (``streaming.arrow_screen``): the value's pattern in
  the canonical form (:attr:`FieldKind.canonical`), its Arrow type and the
  vectorised check over a column (:meth:`FieldKind.arrow_check`).

Adding a kind is one entry here; fields of that kind then go in the field tables.

Usage::

    from moviepipe.events.kinds import KINDS, FieldKind, kind
    KINDS["percent"] = FieldKind("percent", "number", minimum=0, maximum=100)
    kind("rating").check(8, rules)              # ("above", 8)
    kind("timestamp", envelope=True).check("2024-05-01T10:00:00Z", rules)  # (None, datetime)
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moviepipe.events.fields import MAX_BIGINT, TS_RE, UUID_RE
from moviepipe.rules import Rules

if TYPE_CHECKING:  # pyarrow is imported only by the Arrow derivations (the reference needs none)
    import pyarrow as pa

# The fault of a value whose JSON type is not the kind's (the reference words it itself).
WRONG_TYPE = "wrong_type"

# The Python types of a parsed JSON value of each JSON type (a bool is not a number).
_PY_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float}),
    "integer": frozenset({int}),
    "object": frozenset({dict}),
}
# A value's pattern in the canonical form, per JSON type (RE2, the Arrow screen's dialect).
# No backslash (so no escape to decode) and no control character (which JSON forbids, and
# which keeps every document on one line for the parser); plain numbers only: a short
# integer part and no exponent always fit a finite double; at most 18 digits fit an int64.
_CANONICAL = {
    "string": r'"[^"\\\x00-\x1f]*"',
    "number": r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,17})?",
    "integer": r"-?(?:0|[1-9][0-9]{0,17})",
}
# event_ts in the canonical form: a shape Arrow's cast reads exactly as Python does.
_CANONICAL_TS = (
    r'"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]'
    r':[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"'
)


@dataclass(frozen=True)
class FromRules:
    """A constraint read from ``transform_rules.json``: ``rules.events.<name>``."""

    name: str

    def value(self, rules: Rules) -> Any:
        return getattr(rules.events, self.name)


def _resolve(bound: Any, rules: Rules) -> Any:
    return bound.value(rules) if isinstance(bound, FromRules) else bound


@dataclass(frozen=True)
class Parse:
    """A string kind's typed value: ``python`` gives it or None (then the value is
    ``invalid``), ``arrow`` does the same for a column (null where invalid)."""

    python: Callable[[str], Any]
    arrow: Callable[[pa.Array], pa.Array]
    words: str = ""  # what an invalid value is ("" when no value can be)
    schema_format: str | None = None  # the JSON Schema ``format`` that says the same


@dataclass(frozen=True, eq=False)
class FieldKind:
    """What a field of this kind must be. Constraints are checked in this order:
    finite (numbers), ``pattern``, ``enum``, ``min_length``, ``max_length``,
    ``minimum``/``exclusive_minimum``, ``maximum``, then ``parse``; each broken
    one is a problem code (``format``, ``unknown``, ``empty``, ``too_short``,
    ``too_long``, ``below``, ``above``, ``not_finite``, ``invalid``) worded by
    :meth:`problems` (``words`` replaces a default wording)."""

    name: str
    json_type: str  # "string", "number", "integer" or "object"
    pattern: str | None = None
    enum: Any = None  # values, or FromRules
    min_length: Any = None
    max_length: Any = None
    minimum: Any = None
    exclusive_minimum: Any = None
    maximum: Any = None
    parse: Parse | None = None
    words: Mapping[str, str] = field(default_factory=dict)
    # The canonical form's pattern if not the JSON type's; it must imply ``pattern``.
    canonical_value: str | None = None
    # [rules, _compile(rules)] for the last rules seen
    _compiled: list = field(default_factory=list, repr=False)

    def _compile(self, rules: Rules) -> Callable[[Any], tuple[str | None, Any]]:
        """:meth:`check` for ``rules`` as one closure (the reference's hot path): all
        the constraints at once, then one test per problem code, in check order, to
        name the first a value breaks."""
        c = self.constraints(rules)
        checks: list[tuple[str, Callable[[Any], bool]]] = []
        if self.json_type == "number":  # an int is finite (and may be too large for a float)
            checks.append(("not_finite", lambda v: type(v) is float and not math.isfinite(v)))
        regex = re.compile(c["pattern"]) if "pattern" in c else None
        if regex is not None:
            checks.append(("format", lambda v: regex.match(v) is None))
        if "enum" in c:
            allowed = c["enum"]
            checks.append(("unknown", lambda v: v not in allowed))
        if "min_length" in c:
            shortest = c["min_length"]
            checks.append((_short(shortest), lambda v: len(v) < shortest))
        if "max_length" in c:
            longest = c["max_length"]
            checks.append(("too_long", lambda v: len(v) > longest))
        if "minimum" in c:
            low = c["minimum"]
            checks.append(("below", lambda v: v < low))
        if "exclusive_minimum" in c:
            above = c["exclusive_minimum"]
            checks.append(("below", lambda v: v <= above))
        if "maximum" in c:
            high = c["maximum"]
            checks.append(("above", lambda v: v > high))
        allowed = c.get("enum")
        shortest, longest = c.get("min_length", 0), c.get("max_length", sys.maxsize)
        low, above, high = c.get("minimum"), c.get("exclusive_minimum"), c.get("maximum")
        parse = self.parse and self.parse.python
        types, tests = _PY_TYPES[self.json_type], tuple(checks)

        def first_problem(v: Any) -> tuple[str | None, Any]:
            if type(v) not in types:
                return WRONG_TYPE, v
            return next(problem for problem, broken in tests if broken(v)), v

        def typed(v: Any) -> tuple[str | None, Any]:
            if parse is None:
                return None, v
            value = parse(v)
            return (None, value) if value is not None else ("invalid", v)

        # All the constraints at once, per JSON type: most values pass.
        def string(v: Any) -> tuple[str | None, Any]:
            if (
                type(v) is str
                and (regex is None or regex.match(v) is not None)
                and (allowed is None or v in allowed)
                and shortest <= len(v) <= longest
            ):
                return typed(v) if parse is not None else (None, v)
            return first_problem(v)

        def number(v: Any) -> tuple[str | None, Any]:
            t = type(v)
            if (
                t in types
                and (t is int or math.isfinite(v))
                and (low is None or v >= low)
                and (above is None or v > above)
                and (high is None or v <= high)
            ):
                return None, v
            return first_problem(v)

        def obj(v: Any) -> tuple[str | None, Any]:
            return (None, v) if type(v) is dict else (WRONG_TYPE, v)

        run = {"string": string, "object": obj}.get(self.json_type, number)
        self._compiled[:] = [rules, run]
        return run

    def constraints(self, rules: Rules) -> dict[str, Any]:
        """The constraints given, with their values for ``rules``."""
        names = ("pattern", "enum", "min_length", "max_length", "minimum")
        names += ("exclusive_minimum", "maximum")
        out = {n: _resolve(getattr(self, n), rules) for n in names if getattr(self, n) is not None}
        if "enum" in out:
            out["enum"] = tuple(out["enum"])
        return out

    def check(self, v: Any, rules: Rules) -> tuple[str | None, Any]:
        """``(None, typed value)`` when ``v`` (a parsed JSON value, not null) meets the
        kind, else ``(fault, v)``: :data:`WRONG_TYPE` or the first problem code."""
        c = self._compiled
        return (c[1] if c and c[0] is rules else self._compile(rules))(v)

    def problems(self, rules: Rules) -> dict[str, str]:
        """What can be wrong with a value of the right JSON type: problem code -> words."""
        c = self.constraints(rules)
        out = {"not_finite": "is not a finite number"} if self.json_type == "number" else {}
        if "pattern" in c:
            out["format"] = f"does not match {c['pattern']}"
        if "enum" in c:
            out["unknown"] = f"is not one of {', '.join(map(str, c['enum']))}"
        if "min_length" in c:
            n = c["min_length"]
            out[_short(n)] = (
                "is empty; the minimum is 1 character"
                if n == 1
                else f"is shorter than the minimum of {n} characters"
            )
        if "max_length" in c:
            out["too_long"] = f"is longer than the maximum of {c['max_length']} characters"
        if "minimum" in c:
            out["below"] = f"is below the minimum {c['minimum']}"
        if "exclusive_minimum" in c:
            out["below"] = f"is not greater than {c['exclusive_minimum']}"
        if "maximum" in c:
            out["above"] = f"is above the maximum {c['maximum']}"
        if self.parse is not None and self.parse.words:
            out["invalid"] = self.parse.words
        return {**out, **self.words}

    def json_schema(self, rules: Rules) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of a value of this kind."""
        c = self.constraints(rules)
        out: dict[str, Any] = {"type": self.json_type}
        if "pattern" in c:
            out["pattern"] = c["pattern"]
        if self.parse is not None and self.parse.schema_format:
            out["format"] = self.parse.schema_format
        keywords = {"enum": "enum", "min_length": "minLength", "max_length": "maxLength"}
        keywords |= {"minimum": "minimum", "exclusive_minimum": "exclusiveMinimum"}
        for name, keyword in (*keywords.items(), ("maximum", "maximum")):
            if name in c:
                out[keyword] = list(c[name]) if name == "enum" else c[name]
        return out

    @property
    def canonical(self) -> str | None:
        """The value's pattern in the canonical form; None: never in it (left to the reference)."""
        return self.canonical_value or _CANONICAL.get(self.json_type)

    def arrow_type(self) -> pa.DataType:
        """The Arrow type a canonical value of this kind is parsed as."""
        import pyarrow as pa

        return {"string": pa.string(), "number": pa.float64(), "integer": pa.int64()}[
            self.json_type
        ]

    def arrow_check(self, v: pa.Array, rules: Rules) -> tuple[pa.Array, pa.Array]:
        """``(ok, typed)`` for a column of values parsed as :meth:`arrow_type`: ok is
        true where the value meets the kind, false where it does not or is null."""
        import pyarrow as pa
        import pyarrow.compute as pc

        c = self.constraints(rules)
        tests = [pc.is_valid(v)]
        if self.json_type == "number":
            tests.append(pc.is_finite(v))
        if "pattern" in c and self.canonical_value is None:  # (a canonical_value implies it)
            tests.append(pc.match_substring_regex(v, c["pattern"]))
        if "enum" in c:
            tests.append(pc.is_in(v, pa.array(c["enum"], v.type)))
        if "min_length" in c:
            tests.append(pc.greater_equal(pc.utf8_length(v), c["min_length"]))
        if "max_length" in c:
            tests.append(pc.less_equal(pc.utf8_length(v), c["max_length"]))
        if "minimum" in c:
            tests.append(pc.greater_equal(v, c["minimum"]))
        if "exclusive_minimum" in c:
            tests.append(pc.greater(v, c["exclusive_minimum"]))
        if "maximum" in c:
            tests.append(pc.less_equal(v, c["maximum"]))
        typed = v if self.parse is None else self.parse.arrow(v)
        if self.parse is not None:
            tests.append(pc.is_valid(typed))
        ok = tests[0]
        for test in tests[1:]:
            ok = pc.and_kleene(ok, test)
        return ok, typed


def _short(min_length: int) -> str:
    return "empty" if min_length == 1 else "too_short"


_TS = re.compile(TS_RE)


def parse_ts(value: str) -> datetime | None:
    """An ``event_ts`` string as an aware datetime, or None when it breaks the contract."""
    if not _TS.match(value):
        return None
    return _iso(value)


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _arrow_timestamps(ts: pa.Array) -> pa.Array:
    """ISO-8601 strings to UTC microseconds; null where Arrow would not parse (e.g. 30 Feb)."""
    import pyarrow as pa

    try:
        return ts.cast(pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        parsed = [None if s is None else parse_ts(s) for s in ts.to_pylist()]
        return pa.array(parsed, pa.timestamp("us", tz="UTC"))


def _arrow_lower(v: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    return pc.utf8_lower(v)


_KINDS = (
    # the idempotency key, stored lower-case
    FieldKind("uuid", "string", pattern=UUID_RE, words={"format": "is not a UUID"},
              parse=Parse(str.lower, _arrow_lower)),
    FieldKind("timestamp", "string", pattern=TS_RE, canonical_value=_CANONICAL_TS,
              words={"format": "is not an ISO-8601 date and time with an offset "
                               "(at most microseconds)"},
              parse=Parse(_iso, _arrow_timestamps, "is not a valid date and time", "date-time")),
    FieldKind("id", "integer", minimum=1, maximum=MAX_BIGINT),
    FieldKind("object", "object"),
    FieldKind("string", "string"),
    FieldKind("number_ge0", "number", minimum=0),
    FieldKind("number_gt0", "number", exclusive_minimum=0),
    FieldKind("rating", "number", minimum=FromRules("rating_min"),
              maximum=FromRules("rating_max")),
    FieldKind("click_target", "string", enum=FromRules("click_targets")),
    FieldKind("update_action", "string", enum=FromRules("movie_update_actions")),
    FieldKind("text", "string", min_length=1, max_length=FromRules("comment_max_chars")),
)  # fmt: skip
# Every field kind by name. Add a kind here (or, in a test, setitem) and every engine has it.
KINDS: dict[str, FieldKind] = {k.name: k for k in _KINDS}
# Where a kind means more in the envelope: an envelope "string" must not be empty.
ENVELOPE_KINDS: dict[str, FieldKind] = {
    "string": FieldKind(
        "string", "string", min_length=1, words={"empty": "is empty; it must be a non-empty string"}
    ),
}


def kind(name: str, *, envelope: bool = False) -> FieldKind:
    """The kind ``name`` of an envelope field (``envelope=True``) or a payload field."""
    return ENVELOPE_KINDS[name] if envelope and name in ENVELOPE_KINDS else KINDS[name]


def kind_at(path: str, name: str) -> FieldKind:
    """The kind ``name`` of the field at ``path`` (``payload.<f>`` or an envelope field)."""
    return kind(name, envelope=not path.startswith("payload."))
