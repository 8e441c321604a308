"""The GX file context under ``great_expectations/``, built by code from :mod:`quality.suites`.

``build_context(root)`` writes the datasource (its connection string is the
``${MOVIEPIPE_GX_CONNECTION}`` variable, set from the settings at run time, so no
secret is ever written), one table or query asset per suite, the suites, their
validation definitions and one checkpoint per layer (``raw``, ``silver``, ``gold``).
GX gives every object a random id; they are replaced by ids derived from the
content's order, so building twice writes the same bytes and the committed
context can be checked for being current::

    python -m quality.context            # rewrite great_expectations/
    python -m quality.context --check    # exit 1 when it is stale
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from moviepipe.config import PROJECT_DIR
from moviepipe.rules import Rules, load_rules
from quality.suites import LAYERS, Suite, suites

CONTEXT_DIR = PROJECT_DIR / "great_expectations"
DATASOURCE = "warehouse"
CONNECTION_VAR = "MOVIEPIPE_GX_CONNECTION"
_ID_NAMESPACE = uuid.UUID("6d6f7669-6570-6970-652d-717561697479")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Files GX writes that carry only random instance ids.
_VOLATILE = (".ge_store_backend_id",)


def _add_suite(context, datasource, spec: Suite):
    import great_expectations as gx
    import great_expectations.expectations as gxe

    if spec.query:
        asset = datasource.add_query_asset(spec.name, query=spec.query)
    else:
        asset = datasource.add_table_asset(
            spec.name, table_name=spec.table, schema_name=spec.schema
        )
    batch = asset.add_batch_definition_whole_table("all")
    suite = context.suites.add(gx.ExpectationSuite(name=spec.name, meta={"layer": spec.layer}))
    for exp in spec.expectations:
        kwargs = dict(exp.kwargs)
        if exp.description:
            kwargs["description"] = exp.description
        suite.add_expectation(getattr(gxe, exp.kind)(**kwargs))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
    )


@contextmanager
def _offline():
    """GX tests the connection and every table while adding them; building the
    configuration must not need a database (gold_build may not exist yet)."""
    from great_expectations.datasource.fluent import sql_datasource as sd

    saved = [(cls, cls.test_connection) for cls in (sd._SQLAsset, sd.TableAsset, sd.SQLDatasource)]
    for cls, _ in saved:
        cls.test_connection = lambda self, *a, **k: None
    try:
        yield
    finally:
        for cls, fn in saved:
            cls.test_connection = fn


def build_context(root: Path, rules: Rules) -> None:
    """Write a fresh file context into ``root`` (replacing what is there)."""
    shutil.rmtree(root, ignore_errors=True)
    with _offline():
        _build(root, rules)
    _stabilise(root)


def _build(root: Path, rules: Rules) -> None:
    import great_expectations as gx

    context = gx.get_context(mode="file", context_root_dir=root)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    context.variables.save()
    datasource = context.data_sources.add_postgres(
        DATASOURCE, connection_string="${" + CONNECTION_VAR + "}"
    )
    specs = suites(rules)
    for layer in LAYERS:
        definitions = [_add_suite(context, datasource, s) for s in specs if s.layer == layer]
        context.checkpoints.add(
            gx.Checkpoint(
                name=layer,
                validation_definitions=definitions,
                # No UpdateDataDocsAction: it rebuilds the site (index included) once per
                # validation; quality.gate builds it once for all results of a run.
                actions=[],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 10},
            )
        )


def _committed_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and "uncommitted" not in p.relative_to(root).parts
    )


def _stabilise(root: Path) -> None:
    """Replace GX's random ids with ids derived from their order of first appearance."""
    mapping: dict[str, str] = {}
    files = [p for p in _committed_files(root) if p.name not in _VOLATILE]
    for p in files:
        for found in _UUID.findall(p.read_text()):
            mapping.setdefault(found, str(uuid.uuid5(_ID_NAMESPACE, str(len(mapping)))))
    for p in files:
        p.write_text(_UUID.sub(lambda m: mapping[m.group(0)], p.read_text()))
    for p in root.rglob("*"):
        if p.name in _VOLATILE:
            p.unlink()


def stale_files(root: Path = CONTEXT_DIR, rules: Rules | None = None) -> list[str]:
    """Files of the committed context that differ from a fresh build (empty: current)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "great_expectations"
        build_context(fresh, rules or load_rules())
        want = {p.relative_to(fresh): p.read_bytes() for p in _committed_files(fresh)}
        have = (
            {p.relative_to(root): p.read_bytes() for p in _committed_files(root)}
            if root.exists()
            else {}
        )
    return sorted(str(k) for k in set(want) | set(have) if want.get(k) != have.get(k))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_files()
        if stale:
            print(
                f"great_expectations/ is stale ({', '.join(stale)}): run python -m quality.context"
            )
            return 1
        print("great_expectations/ is current")
        return 0
    build_context(CONTEXT_DIR, load_rules())
    print(f"wrote {CONTEXT_DIR.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
