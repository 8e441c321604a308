"""Run the benchmarks: ``python -m bench [NAME ...] [OPTIONS]`` (default: all, in file order).

Each ``bench/bench_<name>.py`` exposes ``main() -> None`` and prints its own
figures; a failing benchmark is reported and the others still run. The long
ones in ``OPT_IN`` run only when named. Arguments from the first one starting
with ``-`` go to the named benchmark's ``main(argv)``
(``python -m bench scale --sizes 50k,200k``).
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

OPT_IN = frozenset({"scale"})  # tens of minutes: not part of a plain `make bench`


def discover() -> list[str]:
    names = (p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    return sorted(n for n in names if n not in OPT_IN)


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        print("\nbenchmarks:", ", ".join(discover()), "; opt-in:", ", ".join(sorted(OPT_IN)))
        return 0
    split = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    options = argv[split:]
    if options and not split:
        print("options go to a named benchmark: python -m bench NAME [OPTIONS]", file=sys.stderr)
        return 2
    names = argv[:split] or discover()
    failed = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        start = time.monotonic()
        try:
            bench_main = importlib.import_module(f"bench.bench_{name}").main
            if options:
                bench_main(options)
            else:
                bench_main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"=== bench {name} done in {time.monotonic() - start:.1f}s ===", flush=True)
    if failed:
        print(f"\nfailed benchmarks: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
