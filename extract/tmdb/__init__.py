"""TMDB API extractor."""
