"""Benchmarks: ``make bench`` runs every ``bench/bench_*.py`` and each prints its figures."""
