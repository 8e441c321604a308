{#-
  Sessionization, shared by silver.sessions and the event facts so both agree:
  a user's events ordered by time start a new session where the gap since the
  previous event exceeds the rules' inactivity gap. A session's key is derived
  from its user and first event, so it is stable across runs; a late event that
  bridges two sessions makes them one on the next run (the later key disappears).

  `relation` needs user_id, event_id, event_ts; every input column is kept and
  session_number, session_start_ts and session_key are added. An incremental run
  sessionizes only a user's events from a session start on (silver.user_events):
  `number_offset` then names the column holding the sessions the user had before.
-#}
{% macro sessionized_events(relation, number_offset=none) -%}
    (
        with flagged as (
            select
                *,
                case
                    when
                        lag(event_ts) over by_user is null
                        or event_ts - lag(event_ts) over by_user
                        > interval '{{ rule_session_inactivity_gap_minutes() }} minutes'
                        then 1
                    else 0
                end as starts_session
            from {{ relation }}
            window by_user as (partition by user_id order by event_ts, event_id)
        ),

        numbered as (
            -- One window, one sort: event times only grow along it, so the latest
            -- session start seen so far is the start of the current session.
            select
                *,
                sum(starts_session) over running
                {%- if number_offset is not none %} + {{ number_offset }}{% endif %} as session_number,
                max(case when starts_session = 1 then event_ts end) over running as session_start_ts
            from flagged
            window running as (
                partition by user_id order by event_ts, event_id
                rows between unbounded preceding and current row
            )
        )

        select
            *,
            md5(
                user_id || '|' || to_char(session_start_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
            ) as session_key
        from numbered
    )
{%- endmacro %}
