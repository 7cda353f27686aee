"""Real Redis servers on loopback for tests, benchmarks and notebooks.

Four topologies, each a context manager with start(), stop() and URL properties:

- `RedisServer`: one standalone server, with kill/restart/pause/resume for fault tests.
- `RedisTLSServer`: TLS only, a throwaway CA, ACL users ``reader`` and ``writer``.
- `RedisSentinelGroup`: 1 primary + 2 replicas + 3 sentinels.
- `RedisClusterGroup`: 3 primaries + 3 replicas, with failover and slot migration.

Every server runs from Debian's redis-server on a free 127.0.0.1 port, keeps no data on disk
and lives in a temp dir of its own. stop() ends each process by PID (SIGTERM, then SIGKILL
after a bounded wait) and removes the dir; whatever is still running at interpreter exit is
stopped then. redis-py is needed only once a server starts (readiness checks).

From a shell, ``python -m stratacache.testing.redis_servers standalone|tls|sentinel|cluster``
starts one, prints its URL and stops it on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from ._cluster import ClusterNode, RedisClusterGroup
from ._process import ServerError
from ._sentinel import RedisSentinelGroup, SentinelServer
from ._standalone import RedisServer
from ._tls import ACL_RULES, RedisTLSServer

__all__ = [
    "ACL_RULES",
    "ClusterNode",
    "RedisClusterGroup",
    "RedisSentinelGroup",
    "RedisServer",
    "RedisTLSServer",
    "SentinelServer",
    "ServerError",
    "main",
]

Topology = RedisServer | RedisSentinelGroup | RedisClusterGroup

TOPOLOGIES: dict[str, type[Topology]] = {
    "standalone": RedisServer,
    "tls": RedisTLSServer,
    "sentinel": RedisSentinelGroup,
    "cluster": RedisClusterGroup,
}


def describe(topology: Topology) -> list[str]:
    """Lines saying how to reach `topology`; the first is its URL."""
    lines = [topology.url]
    if isinstance(topology, RedisTLSServer):
        lines += [f"ca_file={topology.ca_file}"]
        lines += [f"{user}={topology.url_for(user)}" for user in topology.users]
    elif isinstance(topology, RedisSentinelGroup):
        lines += [f"service_name={topology.service_name}", f"primary={topology.primary.url}"]
    elif isinstance(topology, RedisClusterGroup):
        lines += [f"primary={node.url}" for node in topology.primaries]
    return lines


def _exit_on_sigterm(_signum: int, _frame: object) -> NoReturn:
    raise SystemExit(0)  # a requested stop, not a failure


def main(argv: Sequence[str] | None = None) -> int:
    """Starts one topology, prints how to reach it, and runs until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m stratacache.testing.redis_servers",
        description="Start Redis on loopback; print its URL first; stop on Ctrl-C or SIGTERM.",
    )
    parser.add_argument("topology", choices=sorted(TOPOLOGIES))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    began = time.perf_counter()
    try:
        with TOPOLOGIES[args.topology]() as topology:
            elapsed = time.perf_counter() - began
            sys.stdout.write("\n".join(describe(topology)) + "\n")
            sys.stdout.flush()
            sys.stderr.write(f"{args.topology} ready in {elapsed:.2f} s; Ctrl-C stops it\n")
            while True:
                signal.pause()
    except KeyboardInterrupt:
        return 0
    except ServerError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
