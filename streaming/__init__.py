"""Streaming: front-end events from Kafka into raw (Spark, with a pandas fallback)."""
