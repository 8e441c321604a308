-- Events landed by Spark (or promoted from the fallback), payload unpacked into typed columns.
{{ stg_landed_events(source('raw', 'user_events')) }}
