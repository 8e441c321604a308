"""Orchestration: Airflow DAGs that call the moviepipe CLI."""
