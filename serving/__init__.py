"""Serving: the REST API and charts over the gold layer."""
