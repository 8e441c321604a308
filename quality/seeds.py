"""Reference data as dbt seeds, generated from pycountry: ISO 639-1 languages, ISO 3166 countries.

The CSVs under ``seeds/`` are committed; a test regenerates them in memory and
compares, so they stay current with the installed pycountry::

    python -m quality.seeds            # rewrite seeds/*.csv
    python -m quality.seeds --check    # exit 1 when a CSV is stale
"""

from __future__ import annotations

import csv
import io
import sys

import pycountry

from moviepipe.config import PROJECT_DIR

SEEDS_DIR = PROJECT_DIR / "seeds"
# TMDB's original_language uses two codes outside ISO 639-1 (its /configuration/languages):
# "xx" for no language, "cn" for Cantonese (12 of the TMDB 5000 movies).
TMDB_EXTRA_LANGUAGES = (("cn", "Cantonese"), ("xx", "No Language"))


def _csv(header: tuple[str, ...], rows: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sorted(rows))
    return out.getvalue()


def languages_csv() -> str:
    rows = [(lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")]
    return _csv(("language_code", "language_name"), [*rows, *TMDB_EXTRA_LANGUAGES])


def countries_csv() -> str:
    rows = [(c.alpha_2, c.name) for c in pycountry.countries]
    return _csv(("country_code", "country_name"), rows)


SEEDS = {"iso_languages.csv": languages_csv, "iso_countries.csv": countries_csv}


def stale() -> list[str]:
    """Seed files whose committed text differs from what pycountry gives (pure read)."""
    return [
        name
        for name, make in SEEDS.items()
        if not (SEEDS_DIR / name).exists() or (SEEDS_DIR / name).read_text() != make()
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = stale()
        if names:
            print(f"stale seeds: {', '.join(names)}: run python -m quality.seeds")
            return 1
        print("seeds are current")
        return 0
    SEEDS_DIR.mkdir(exist_ok=True)
    for name, make in SEEDS.items():
        (SEEDS_DIR / name).write_text(make())
        print(f"wrote seeds/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
