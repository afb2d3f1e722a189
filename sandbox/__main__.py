"""python -m sandbox [--port 8001] [--kubeconfig .sandbox/kubeconfig] [--time-scale 60] [--region ORD1]

Runs the sandbox Kubernetes API and the simulator until Ctrl-C or SIGTERM, and
writes a kubeconfig pointing at it (set KUBECONFIG to that path for the portal).
"""

import argparse
import logging
import re
import signal
import threading

from . import crdschema
from .harness import SandboxCluster
from .nodes import DEFAULT_REGION, GPUS_PER_NODE, gpu_nodes

log = logging.getLogger("sandbox")

# A label value: at most 63 characters, alphanumerics with - _ . inside (kubernetes.io/docs/concepts/overview/
# working-with-objects/labels/#syntax-and-character-set); the region is one on every node.
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def _regions(parser, values):
    regions = [r.strip() for value in values for r in value.split(",") if r.strip()] or [DEFAULT_REGION]
    for region in regions:
        if not _LABEL_VALUE.match(region):
            parser.error(f"--region {region!r}: a region is a label value (letters, digits, '-', '_', '.'; "
                         "at most 63), e.g. --region ORD1")
    return list(dict.fromkeys(regions))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[2])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--kubeconfig", default=".sandbox/kubeconfig")
    parser.add_argument("--time-scale", type=float, default=60.0,
                        help="simulated seconds per real second (60: a 30 min retention passes in 30 s)")
    parser.add_argument("--tick", type=float, default=1.0, help="simulator interval in real seconds")
    parser.add_argument("--no-simulator", action="store_true")
    parser.add_argument("--bookmark-seconds", type=float, default=None,
                        help="how often a watch with allowWatchBookmarks gets a BOOKMARK (default 60, as the API server)")
    parser.add_argument("--traffic", action="append", default=[], metavar="NAMESPACE/NAME=PATTERN",
                        help="traffic of one service: steady, idle, wave or burst (repeatable)")
    parser.add_argument("--region", action="append", default=[], metavar="CODE",
                        help=f"a region of the cluster's GPU nodes (repeatable, or comma-separated; default "
                             f"{DEFAULT_REGION}): one node per catalog GPU class in each")
    parser.add_argument("--nodes-per-class", type=int, default=1, metavar="N",
                        help=f"GPU nodes of each class in each region ({GPUS_PER_NODE} GPUs each)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every API request")
    args = parser.parse_args(argv)
    if args.nodes_per_class < 0:
        parser.error(f"--nodes-per-class {args.nodes_per_class}: use 0 or more")
    regions = _regions(parser, args.region)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.verbose:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        crdschema.crds_dir()
    except crdschema.CrdsMissing as exc:
        parser.exit(2, f"sandbox: {exc}\n")
    cluster = SandboxCluster(port=args.port, simulate=not args.no_simulator, time_scale=args.time_scale,
                             tick_seconds=args.tick, kubeconfig_path=args.kubeconfig,
                             bookmark_seconds=args.bookmark_seconds,
                             nodes=gpu_nodes(regions=regions, per_class=args.nodes_per_class))
    cluster.server.host = args.host
    cluster.start()
    for item in args.traffic:
        target, _, pattern = item.partition("=")
        namespace, _, name = target.partition("/")
        if not (namespace and name and pattern):
            parser.error(f"--traffic {item!r}: use NAMESPACE/NAME=PATTERN")
        cluster.simulator.set_traffic(namespace, name, pattern)
    log.info("sandbox API on %s, kubeconfig written to %s", cluster.url, cluster.kubeconfig_path)
    log.info("%d GPU nodes in %s", len(cluster.nodes), ", ".join(regions))
    log.info("simulator %s (time scale x%g); stop with Ctrl-C",
             "off" if args.no_simulator else "on", args.time_scale)
    try:
        stopping.wait()
    finally:
        log.info("stopping the sandbox")
        cluster.stop()
        log.info("sandbox stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
