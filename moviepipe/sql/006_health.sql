-- The API's /health reports the last gate and publish, but the reader role sees gold only:
-- two security-definer functions in their own schema return just those rows, so the
-- reader never gets a grant on an ops table (db._grants grants usage and execute here).

create schema if not exists health;
revoke all on schema health from public;

create or replace function health.last_gate()
returns table (run_id text, success boolean, checked_at timestamptz, failed_checkpoints text[])
language sql stable security definer
set search_path = pg_catalog
as $$
    with latest as (
        select q.run_id from ops.quality_results as q
        order by q.checked_at desc, q.result_id desc limit 1
    )
    select q.run_id, bool_and(q.success), max(q.checked_at),
           coalesce(array_agg(q.checkpoint order by q.checkpoint) filter (where not q.success),
                    '{}')
    from ops.quality_results as q
    inner join latest on q.run_id = latest.run_id
    group by q.run_id
$$;

create or replace function health.last_publish()
returns table (action text, run_id text, published_at timestamptz)
language sql stable security definer
set search_path = pg_catalog
as $$
    select p.action, p.run_id, p.published_at from ops.publish_log as p
    order by p.publish_id desc limit 1
$$;

revoke all on function health.last_gate() from public;
revoke all on function health.last_publish() from public;
