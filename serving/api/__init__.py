"""The read-only REST API over gold (``moviepipe serve``; docs/api.md).

Usage::

    from serving.api import create_app
    app = create_app(load_settings())   # connects in its lifespan, not here
"""

from serving.api.app import create_app

__all__ = ["create_app"]
