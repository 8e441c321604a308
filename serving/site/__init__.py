"""The one docs site: ``.local/docs/index.html`` links every page people look at.

Usage::

    from serving.site import build_site
    index = build_site(settings)          # after dbt docs, GX data docs and charts exist
"""

from serving.site.build import build_site

__all__ = ["build_site"]
