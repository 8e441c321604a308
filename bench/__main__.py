"""Run the benchmarks: ``python -m bench [NAME ...]`` (default: all, in file order).

Each ``bench/bench_<name>.py`` exposes ``main() -> None`` and prints its own
figures; a failing benchmark is reported and the others still run.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = argv or discover()
    failed = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        start = time.monotonic()
        try:
            importlib.import_module(f"bench.bench_{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"=== bench {name} done in {time.monotonic() - start:.1f}s ===", flush=True)
    if failed:
        print(f"\nfailed benchmarks: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
