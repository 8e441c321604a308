"""DAG integrity: every file imports, every DAG and task is documented and retried."""

from __future__ import annotations

from datetime import timedelta

from orchestration.defaults import GOLD_ASSET, OWNER

EXPECTED = {"tmdb_daily", "streaming_supervisor", "promote_fallback", "serving_refresh"}


def test_every_dag_file_imports_without_errors_or_network(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_every_dag_has_owner_tags_doc_and_no_catchup(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags and "moviepipe" in dag.tags, dag.dag_id
        assert dag.doc_md and dag.doc_md.strip(), dag.dag_id
        assert dag.catchup is False, dag.dag_id
        assert dag.owner == OWNER, dag.dag_id


def test_every_task_is_documented_and_retries_with_backoff(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.doc_md, task.task_id
            assert task.owner == OWNER, task.task_id
            if dag.dag_id != "promote_fallback":  # manual: an operator re-triggers it
                assert task.retries >= 1, task.task_id
                assert task.retry_exponential_backoff, task.task_id
                assert task.retry_delay >= timedelta(seconds=1), task.task_id


def test_tmdb_daily_runs_the_steps_in_order_with_one_task_per_dbt_model(dagbag):
    dag = dagbag.dags["tmdb_daily"]
    ids = set(dag.task_ids)
    for model in ("stg_movies", "movies_curated", "fact_user_event", "dim_movie"):
        assert f"dbt_build.{model}.run" in ids, model
    upstream = dag.get_task("extract_mongo").upstream_task_ids
    assert upstream == {"extract_tmdb_changes"}
    dbt_roots = [
        t
        for t in dag.tasks
        if t.task_id.startswith("dbt_build.")
        and not [u for u in t.upstream_task_ids if u.startswith("dbt_build.")]
    ]
    assert dbt_roots and all("raw_gate" in t.upstream_task_ids for t in dbt_roots)
    assert dag.get_task("raw_gate").upstream_task_ids == {"enrich"}
    assert "docs" in dag.get_task("gate_and_publish").downstream_task_ids


def test_the_one_dbt_build_runs_before_every_model_task(dagbag):
    dag = dagbag.dags["tmdb_daily"]
    dbt = [t for t in dag.tasks if t.task_id.startswith("dbt_build.")]
    (root,) = [t for t in dbt if not any(u.startswith("dbt_build.") for u in t.upstream_task_ids)]
    # cosmos' watcher: the producer runs `dbt build`; a model's task shows its node's result.
    assert root.task_id == "dbt_build.dbt_producer_watcher"
    assert type(root).__name__ == "DbtProducerWatcherOperator"
    # The gate waits for every node's result.
    ancestors = dag.get_task("gate_and_publish").get_flat_relative_ids(upstream=True)
    assert {t.task_id for t in dbt} - {"dbt_build.dbt_producer_watcher_done"} <= ancestors


def test_only_the_publish_task_emits_the_gold_asset(dagbag):
    dag = dagbag.dags["tmdb_daily"]
    emitting = [t.task_id for t in dag.tasks if t.outlets]
    # cosmos' emit_datasets is off: the build schema is never announced.
    assert emitting == ["gate_and_publish"]
    assert dag.get_task("gate_and_publish").outlets == [GOLD_ASSET]


def test_serving_refresh_is_scheduled_on_the_gold_asset(dagbag):
    dag = dagbag.dags["serving_refresh"]
    assert GOLD_ASSET.uri in str(dag.timetable.asset_condition)


def test_promote_fallback_is_manual_with_a_run_id_parameter(dagbag):
    dag = dagbag.dags["promote_fallback"]
    assert type(dag.timetable).__name__ == "NullTimetable"  # schedule=None: manual only
    assert "run_id" in dag.params
