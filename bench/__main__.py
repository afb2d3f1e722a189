"""Run the benchmarks: `python -m bench [name ...]` (names without the bench_ prefix; default: all)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv):
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = {f"bench_{a.removeprefix('bench_')}" for a in argv}
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
