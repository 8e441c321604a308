-- Lineage: every step of one pipeline run (an Airflow DAG run, one `moviepipe run`) shares
-- a pipeline run id. Each step keeps its own run_id (the key the raw rows carry); the
-- shared id comes from the session setting moviepipe.run_id, which the orchestrator sets
-- for every connection of the step through libpq's PGOPTIONS (`-c moviepipe.run_id=...`),
-- so no step's code has to pass it along.

alter table ops.run_log add column if not exists pipeline_run_id text
    default nullif(current_setting('moviepipe.run_id', true), '');
create index if not exists run_log_pipeline_run_idx on ops.run_log (pipeline_run_id);
