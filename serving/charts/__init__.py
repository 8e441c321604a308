"""PNG charts from gold (`moviepipe charts`), read as the reader role.

Usage::

    from serving.charts import build_charts
    for chart in build_charts(settings):       # .local/docs/charts/*.png
        print(chart.name, chart.rows, chart.path)
"""

from serving.charts.build import CHART_NAMES, Chart, build_charts, default_out_dir

__all__ = ["CHART_NAMES", "Chart", "build_charts", "default_out_dir"]
