{{ kpi_movie_rank('profit_musd') }}
