"""Run the benchmarks: `python -m bench [name ...]` (names without the bench_ prefix; default: all)."""

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path


def main(argv):
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = {f"bench_{a.removeprefix('bench_')}" for a in argv}
    # Before any module sets Django up: the benchmarks' queues stay out of `make run`'s Redis db.
    os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        importlib.import_module(f"bench.{name}").main()
        print(f"== {name} done in {time.monotonic() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
