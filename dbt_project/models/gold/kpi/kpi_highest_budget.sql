{{ kpi_movie_rank('budget_musd') }}
