"""Dev tools for the TMDB extractor: a TMDB-shaped local server and the synthetic sample."""
