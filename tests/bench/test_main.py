"""``python -m bench``: help lists the benchmarks; options without a name run nothing."""

from __future__ import annotations

from bench.__main__ import discover, main


def test_help_lists_the_benchmarks(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "streaming" in discover()
    assert all(name in out for name in discover())


def test_options_need_a_benchmark_name(capsys):
    assert main(["--sizes", "50k"]) == 2
    assert "named benchmark" in capsys.readouterr().err
