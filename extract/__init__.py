"""Extractors: thin, restartable loaders from the sources into the bronze layer (raw)."""
