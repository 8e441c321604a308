{{ kpi_movie_rank('revenue_musd') }}
