{{ kpi_movie_rank('popularity') }}
