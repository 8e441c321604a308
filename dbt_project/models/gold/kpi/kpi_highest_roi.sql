{{ kpi_movie_rank('roi', 'desc', where='budget_musd >= ' ~ rule_roi_min_budget_musd()) }}
