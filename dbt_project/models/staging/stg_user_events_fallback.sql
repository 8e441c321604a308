-- Events landed by the pandas fallback (kept apart from the Spark landing), payload unpacked.
{{ stg_landed_events(source('raw', 'user_events_fallback')) }}
