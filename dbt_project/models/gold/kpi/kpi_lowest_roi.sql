{{ kpi_movie_rank('roi', 'asc', where='budget_musd >= ' ~ rule_roi_min_budget_musd()) }}
