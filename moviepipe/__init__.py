"""moviepipe: a dbt-centric ELT warehouse for a movie review application."""

__version__ = "0.1.0"
