-- The user_stats measures over every user, one row (GET /api/user_stats without user_id).
{{ user_stats_model(per_user=false) }}
