"""Metabase dashboards as code: ``dashboard.yml`` provisioned through Metabase's REST API.

Metabase itself runs in docker-compose (``metabase`` service); this package only
talks to its API. See :mod:`serving.metabase.provision` for the steps.

Usage::

    moviepipe metabase provision --url http://127.0.0.1:3000
"""
