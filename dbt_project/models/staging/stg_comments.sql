-- The MongoDB backup of the comment topic, one row per document, event unpacked.
{{ stg_mongo_backup(source('raw', 'mongo_comments')) }}
