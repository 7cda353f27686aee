"""One primary, two replicas and three sentinels on loopback, with failover controls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._options import require_type
from ._process import HOST, ServerError, Topology, log_tail, positive_seconds, wait_for
from ._standalone import RedisServer

if TYPE_CHECKING:
    from typing_extensions import Self

REPLICAS = 2
SENTINELS = 3
QUORUM = 2


class SentinelServer(RedisServer):
    """One redis-sentinel process watching a single service."""

    executable = "redis-sentinel"
    package = "redis-sentinel"
    kind = "redis-sentinel"

    def __init__(self, monitor: Sequence[str], startup_timeout: float) -> None:
        super().__init__(config=list(monitor), startup_timeout=startup_timeout)

    def _base_config(self) -> list[str]:
        return []  # sentinels keep no data

    def _write_config(self) -> Path:
        # A sentinel rewrites its config with what it learned (current primary, replicas,
        # other sentinels); a restart must start from that, not from the first primary.
        path = self.directory / "redis.conf"
        return path if path.exists() else super()._write_config()


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    """SENTINEL REPLICAS/SENTINELS answer each instance as a flat [key, value, ...] list."""
    return {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


class RedisSentinelGroup(Topology):
    """A Sentinel deployment: 1 primary + 2 replicas + 3 sentinels (quorum 2) on 127.0.0.1.

    start() returns once the replicas are in sync and every sentinel knows both replicas and
    the two other sentinels. After kill_primary() and wait_for_failover(), heal() restarts the
    dead servers as replicas of the new primary, so one group serves many fault tests.

    Args:
        service_name: the name sentinels monitor the primary under.
        down_after_ms: sentinels' ``down-after-milliseconds``.
        failover_timeout_ms: sentinels' ``failover-timeout``.
        startup_timeout: seconds start() and heal() may take before they fail.
    """

    def __init__(
        self,
        *,
        service_name: str = "stratacache",
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 2000,
        startup_timeout: float = 30.0,
    ) -> None:
        require_type(service_name, str, "service_name", "a str")
        if not service_name.isidentifier():
            msg = f"service_name must be letters, digits and '_', got {service_name!r}"
            raise ValueError(msg)
        for name, value in (
            ("down_after_ms", down_after_ms),
            ("failover_timeout_ms", failover_timeout_ms),
        ):
            require_type(value, int, name, "an int of milliseconds")
            if value <= 0:
                msg = f"{name} must be > 0, got {value}"
                raise ValueError(msg)
        self._name = service_name
        self._down_after_ms = down_after_ms
        self._failover_timeout_ms = failover_timeout_ms
        self._timeout = positive_seconds(startup_timeout, "startup_timeout")
        self._servers: list[RedisServer] = []
        self._sentinels: list[SentinelServer] = []
        self._last_primary: tuple[str, int] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Starts the servers and sentinels and waits until they all agree.

        Raises:
            ServerError: a process failed to start or the group did not settle in time.
            RuntimeError: already started.
        """
        if self.started:
            msg = "the sentinel group is already started"
            raise RuntimeError(msg)
        try:
            primary = self._add(RedisServer(startup_timeout=self._timeout))
            for _ in range(REPLICAS):
                self._add(RedisServer(replicaof=primary.address, startup_timeout=self._timeout))
            for _ in range(SENTINELS):
                sentinel = SentinelServer(self._monitor_config(primary.port), self._timeout)
                self._sentinels.append(sentinel)
                sentinel.start()
            self._last_primary = primary.address
            self._wait_settled()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every sentinel and server by PID and removes their temp dirs."""
        for process in [*self._sentinels, *self._servers]:
            process.stop()
        self._sentinels.clear()
        self._servers.clear()

    @property
    def started(self) -> bool:
        """True between start() and stop()."""
        return bool(self._servers)

    # -- addresses -----------------------------------------------------------------------

    @property
    def service_name(self) -> str:
        """The name the primary is monitored under (``master_for(service_name)``)."""
        return self._name

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """[(host, port)] of the three sentinels, as redis.sentinel.Sentinel takes them."""
        return [s.address for s in self._sentinels]

    @property
    def url(self) -> str:
        """redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/SERVICE"""
        hosts = ",".join(f"{host}:{port}" for host, port in self.sentinel_addresses)
        return f"redis+sentinel://{hosts}/{self._name}"

    @property
    def servers(self) -> list[RedisServer]:
        """The three data servers, primary or replica, in start order."""
        return list(self._servers)

    @property
    def sentinels(self) -> list[SentinelServer]:
        """The three sentinel processes."""
        return list(self._sentinels)

    @property
    def primary(self) -> RedisServer:
        """The server a live sentinel currently names as primary.

        Raises:
            ServerError: no sentinel answers, or it names an unknown address.
        """
        return self._server_at(self._ask_primary_address())

    @property
    def replicas(self) -> list[RedisServer]:
        """The servers other than the current primary."""
        primary = self.primary
        return [s for s in self._servers if s is not primary]

    # -- faults --------------------------------------------------------------------------

    def kill_primary(self) -> RedisServer:
        """SIGKILLs the current primary and returns its handle (restart it with heal())."""
        primary = self.primary
        self._last_primary = primary.address
        primary.kill()
        return primary

    def wait_for_failover(
        self, timeout: float = 30.0, *, previous: tuple[str, int] | None = None
    ) -> tuple[str, int]:
        """Waits until every live sentinel names a new primary that says it is one.

        Args:
            timeout: seconds to wait.
            previous: the old primary's address; by default the one kill_primary() killed
                (or the primary at start).

        Returns:
            The new primary's (host, port).

        Raises:
            ServerError: no failover within `timeout`.
        """
        seconds = positive_seconds(timeout, "timeout")
        old = previous or self._last_primary

        def promoted() -> tuple[str, int] | None:
            views = {self._primary_seen_by(s) for s in self._sentinels if s.alive}
            if len(views) != 1:
                return None
            (address,) = views
            if address is None or address == old:
                return None
            server = self._server_at(address)
            return address if server.alive and _role(server) == "master" else None

        address = wait_for(promoted, seconds, lambda: self._report(f"no failover from {old}"))
        self._last_primary = address
        return address

    def heal(self) -> None:
        """Resumes paused processes, restarts dead ones (data servers as replicas of the
        current primary) and waits until the group is settled again.

        Raises:
            ServerError: the group did not settle within `startup_timeout`.
        """
        for process in [*self._servers, *self._sentinels]:
            if process.paused:
                process.resume()
        for sentinel in self._sentinels:  # first: they name the primary
            if not sentinel.alive:
                sentinel.restart()
        primary = self.primary
        if not primary.alive:  # killed and not failed over yet: it comes back as primary
            primary.replicaof = None
            primary.restart()
        for server in self._servers:
            if not server.alive:
                server.replicaof = primary.address
                server.restart()
        self._last_primary = primary.address
        self._wait_settled()

    def flushall(self) -> None:
        """Deletes every key (on the primary; the replicas follow)."""
        self.primary.flushall()

    # -- internals -----------------------------------------------------------------------

    def _add(self, server: RedisServer) -> RedisServer:
        self._servers.append(server)
        server.start()
        return server

    def _monitor_config(self, primary_port: int) -> list[str]:
        name = self._name
        return [
            f"sentinel monitor {name} {HOST} {primary_port} {QUORUM}",
            f"sentinel down-after-milliseconds {name} {self._down_after_ms}",
            f"sentinel failover-timeout {name} {self._failover_timeout_ms}",
            f"sentinel parallel-syncs {name} 1",
        ]

    def _ask_primary_address(self) -> tuple[str, int]:
        """The primary most live sentinels name (one just restarted may lag behind)."""
        views = Counter(
            address
            for sentinel in self._sentinels
            if sentinel.alive and not sentinel.paused
            if (address := self._primary_seen_by(sentinel)) is not None
        )
        if not views:
            msg = f"no sentinel of {self._name!r} names a primary"
            raise ServerError(msg)
        return views.most_common(1)[0][0]

    def _primary_seen_by(self, sentinel: SentinelServer) -> tuple[str, int] | None:
        try:
            reply = sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self._name)
        except Exception:  # noqa: BLE001 - an unreachable sentinel has no view
            return None
        return None if not reply else (str(reply[0]), int(reply[1]))

    def _server_at(self, address: tuple[str, int]) -> RedisServer:
        for server in self._servers:
            if server.address == address:
                return server
        msg = f"the sentinels name {address} as primary, which is not a server of this group"
        raise ServerError(msg)

    def _wait_settled(self) -> None:
        wait_for(self._settled, self._timeout, lambda: self._report("not settled"))

    def _settled(self) -> bool:
        """The other servers replicate the primary, in sync, and every sentinel agrees: same
        primary, no failover in progress, both replicas up, the two other sentinels known."""
        try:
            primary = self._server_at(self._ask_primary_address())
            replicas = {s.port for s in self._servers if s is not primary}
            info = primary.command("INFO", "replication")
            online = {
                int(v["port"])
                for k, v in info.items()
                if k.startswith("slave") and v["state"] == "online"
            }
            return online == replicas and all(
                self._agrees(sentinel, primary.port, replicas) for sentinel in self._sentinels
            )
        except Exception:  # noqa: BLE001 - a server still starting or failing over
            return False

    def _agrees(self, sentinel: SentinelServer, primary: int, replicas: set[int]) -> bool:
        master = _pairs(sentinel.command("SENTINEL", "MASTER", self._name))
        if master.get("flags") != "master" or master.get("port") != str(primary):
            return False
        seen = sentinel.command("SENTINEL", "REPLICAS", self._name)
        # Flags other than "slave" mean down, disconnected or a failover step in progress.
        up = {int(r["port"]) for r in map(_pairs, seen) if r.get("flags") == "slave"}
        return up == replicas and master.get("num-other-sentinels") == str(SENTINELS - 1)

    def _report(self, what: str) -> str:
        lines = [f"sentinel group {self._name!r} {what} within {self._timeout:g} s:"]
        for process in [*self._servers, *self._sentinels]:
            state = "dead" if not process.alive else "paused" if process.paused else "alive"
            lines.append(f"  {process!r}: {state}; log tail:")
            lines.append("    " + log_tail(process.log_path, lines=8).replace("\n", "\n    "))
        return "\n".join(lines)


def _role(server: RedisServer) -> str:
    try:
        return str(server.command("ROLE")[0])
    except Exception:  # noqa: BLE001 - a dead or hung server has no role
        return ""
