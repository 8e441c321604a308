{{ kpi_movie_rank('vote_average', 'asc', where='vote_count >= ' ~ rule_rating_min_votes()) }}
