"""Run the benchmarks: `python -m bench [name ...] [--scale F]` (names without the bench_ prefix; default: all).

--scale F multiplies every benchmark's size (default 1: the sizes the goals name, e.g. 10,000 deployments for
the dashboard, N = 200 for the push); a run at another scale prints its figures and keeps them in
bench/HISTORY.md, but leaves bench/RESULTS.md, the goals' table, as it is.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

# Benchmarks sized by a variable of their own: the scale goes there (variable, the module's size constant).
OWN_SIZES = {
    "bench_watch": ("BENCH_WATCH_DEPLOYMENTS", "DEPLOYMENTS"),
    "bench_create": ("BENCH_CREATE_SIZES", "SIZES"),
    "bench_list": ("BENCH_LIST_DEPLOYMENTS", "DEPLOYMENTS"),
}


def _own_size_scale(name, module, scale):
    """Re-import a benchmark that reads its size from its own variable with that size scaled."""
    variable, constant = OWN_SIZES[name]
    if scale == 1 or variable in os.environ:
        return module
    size = getattr(module, constant)
    sizes = size if isinstance(size, tuple | list) else (size,)
    os.environ[variable] = ",".join(str(max(1, round(s * scale))) for s in sizes)
    return importlib.reload(module)


def main(argv):
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"which to run: {', '.join(n.removeprefix('bench_') for n in names)}")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                        help="multiply every size by this (default 1: the goals' sizes)")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale: give a positive factor, e.g. --scale 0.1 for a tenth of the goals' sizes")
    wanted = {f"bench_{a.removeprefix('bench_')}" for a in args.names}
    unknown = wanted - set(names)
    if unknown:
        parser.error(f"no benchmark {', '.join(sorted(unknown))}; there are: {', '.join(names)}")
    # Before any module is imported: support reads the scale, and the benchmarks' queues stay out of
    # `make run`'s Redis db.
    os.environ["BENCH_SCALE"] = repr(args.scale)
    os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    failed = []
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"== {name} (scale {args.scale:g})", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            if name in OWN_SIZES:
                module = _own_size_scale(name, module, args.scale)
            module.main()
        except Exception:  # noqa: BLE001 (one benchmark failing must not lose the others' figures)
            traceback.print_exc()
            failed.append(name)
        print(f"== {name} {'FAILED' if name in failed else 'done'} in {time.monotonic() - started:.0f}s", flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
