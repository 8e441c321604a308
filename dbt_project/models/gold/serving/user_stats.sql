-- Per user: sessions, watch time, completion, favourite genres, comments and their
-- sentiment (GET /api/user_stats?user_id).
{{ user_stats_model(per_user=true) }}
