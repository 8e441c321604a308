-- Each task of a Spark landing micro-batch lands its rows in a transaction of its own
-- (streaming/land_task.py) and claims them there: one row per task, keyed by the Kafka
-- offset ranges it holds, so a retried or replayed task with the same ranges finds its
-- claim and lands nothing. The driver then claims the batch in ops.stream_batches with
-- the tasks' summed counts and deletes these rows: they live for one micro-batch.
create table if not exists ops.stream_batch_tasks (
    sink text not null,
    batch_id bigint not null,
    -- 'topic:partition:first-last' per Kafka partition held, sorted, comma-separated
    offset_ranges text not null,
    rows_in integer not null,
    rows_landed integer not null,
    rows_rejected integer not null,
    committed_at timestamptz not null default now(),
    primary key (sink, batch_id, offset_ranges)
);
