-- The MongoDB backup of the watch, click and movie topics, one row per document, event unpacked.
{{ stg_mongo_backup(source('raw', 'mongo_user_logs')) }}
