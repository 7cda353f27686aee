"""A Redis Cluster of 3 primaries + 3 replicas on loopback, with failover and slot migration."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._options import require_type
from ._process import (
    HOST,
    ServerError,
    Topology,
    free_port,
    port_is_free,
    positive_seconds,
    require_executable,
    wait_for,
)
from ._standalone import RedisServer

if TYPE_CHECKING:
    from typing_extensions import Self

NODES = 6
SLOTS = 16384
BUS_PORT_OFFSET = 10000  # Redis's default cluster bus port is the client port + 10000

#: An ownership map: (first slot, last slot, primary's port), sorted.
SlotMap = tuple[tuple[int, int, int], ...]


class ClusterNode(RedisServer):
    """One cluster-enabled redis-server; its nodes.conf lives in its temp dir across restarts."""

    kind = "redis-cluster"

    def __init__(self, node_timeout_ms: int, startup_timeout: float) -> None:
        super().__init__(
            config=[
                "cluster-enabled yes",
                f"cluster-node-timeout {node_timeout_ms}",
                "cluster-config-file nodes.conf",
            ],
            startup_timeout=startup_timeout,
        )

    def _pick_port(self) -> int:
        return free_port(
            lambda p: p + BUS_PORT_OFFSET < 65536 and port_is_free(p + BUS_PORT_OFFSET)
        )


class RedisClusterGroup(Topology):
    """Six cluster nodes (3 primaries, 3 replicas) made with ``redis-cli --cluster create``.

    start() returns once every node says ``cluster_state:ok``, all 16384 slots are served
    and every replica is in sync. heal() brings killed or paused nodes back, so one cluster
    serves many fault tests.

    Args:
        node_timeout_ms: ``cluster-node-timeout``; a primary is failed over after about this.
        startup_timeout: seconds start() and heal() may take before they fail.
    """

    def __init__(self, *, node_timeout_ms: int = 1000, startup_timeout: float = 60.0) -> None:
        require_type(node_timeout_ms, int, "node_timeout_ms", "an int of milliseconds")
        if node_timeout_ms <= 0:
            msg = f"node_timeout_ms must be > 0, got {node_timeout_ms}"
            raise ValueError(msg)
        self._node_timeout_ms = node_timeout_ms
        self._timeout = positive_seconds(startup_timeout, "startup_timeout")
        self._nodes: list[ClusterNode] = []

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Starts six nodes, joins them into a cluster and waits until it serves every slot.

        Raises:
            ServerError: a node failed to start, ``redis-cli --cluster create`` failed, or
                the cluster was not ok in time.
            RuntimeError: already started.
        """
        if self.started:
            msg = "the cluster is already started"
            raise RuntimeError(msg)
        try:
            for _ in range(NODES):
                node = ClusterNode(self._node_timeout_ms, self._timeout)
                self._nodes.append(node)
                node.start()
            self._create()
            self._wait_healthy(self._timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every node by PID and removes their temp dirs."""
        for node in self._nodes:
            node.stop()
        self._nodes.clear()

    @property
    def started(self) -> bool:
        """True between start() and stop()."""
        return bool(self._nodes)

    # -- addresses and topology ----------------------------------------------------------

    @property
    def nodes(self) -> list[ClusterNode]:
        """All six nodes, in start order."""
        return list(self._nodes)

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        """[(host, port)] of every node."""
        return [node.address for node in self._nodes]

    @property
    def url(self) -> str:
        """redis+cluster://127.0.0.1:P1,127.0.0.1:P2,..."""
        return "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in self.startup_nodes)

    @property
    def primaries(self) -> list[ClusterNode]:
        """The nodes that serve slots now, in slot order."""
        owners = dict.fromkeys(port for _, _, port in self._slot_map())
        return [self._node_at(port) for port in owners]

    def key_slot(self, key: str | bytes) -> int:
        """The hash slot of `key` (as CLUSTER KEYSLOT computes it)."""
        require_type(key, (str, bytes), "key", "str or bytes")
        return int(self._any_live_node().command("CLUSTER", "KEYSLOT", key))

    def primary_of_slot(self, slot: int) -> ClusterNode:
        """The node serving `slot` now.

        Raises:
            ValueError: `slot` is not in 0..16383.
        """
        _check_slot(slot)
        for first, last, port in self._slot_map():
            if first <= slot <= last:
                return self._node_at(port)
        msg = f"slot {slot} is not served by any node"
        raise ServerError(msg)

    # -- faults --------------------------------------------------------------------------

    def wait_replicated(self, key: str | bytes, timeout: float = 10.0) -> None:
        """Waits until every replica of the primary serving `key` has all that primary's
        writes so far. Replication is asynchronous: a primary killed right after a write may
        die before its replica has it, and the promoted replica then lacks the key.

        Raises:
            ServerError: a replica still behind after `timeout` seconds.
        """
        seconds = positive_seconds(timeout, "timeout")
        primary = self.primary_of_slot(self.key_slot(key))
        info = primary.command("INFO", "replication")
        target = int(info["master_repl_offset"])
        ports = [int(info[f"slave{i}"]["port"]) for i in range(int(info["connected_slaves"]))]
        replicas = [self._node_at(port) for port in ports]

        def caught_up() -> bool:
            return all(
                int(r.command("INFO", "replication").get("slave_repl_offset", -1)) >= target
                for r in replicas
            )

        wait_for(caught_up, seconds, lambda: f"replicas {ports} behind offset {target}")

    def kill_primary_of(self, key: str | bytes) -> ClusterNode:
        """SIGKILLs the primary serving `key` and returns it; its replica takes over after
        about `node_timeout_ms` (see wait_cluster_ok)."""
        node = self.primary_of_slot(self.key_slot(key))
        node.kill()
        return node

    def wait_cluster_ok(self, timeout: float = 30.0) -> None:
        """Waits until every live node says ``cluster_state:ok`` and all agree that every slot
        is served by a live primary.

        Raises:
            ServerError: not so within `timeout` seconds.
        """
        seconds = positive_seconds(timeout, "timeout")
        wait_for(self._serving, seconds, lambda: self._report("not ok", seconds))

    def heal(self) -> None:
        """Resumes paused nodes, restarts dead ones (they rejoin as replicas) and waits until
        all six are connected, replicas in sync and the cluster ok.

        Raises:
            ServerError: not healthy within `startup_timeout`.
        """
        for node in self._nodes:
            if node.paused:
                node.resume()
        for node in self._nodes:
            if not node.alive:
                node.restart()
        self._wait_healthy(self._timeout)

    def flushall(self) -> None:
        """Deletes every key (on each primary; replicas follow)."""
        for node in self.primaries:
            node.flushall()

    def migrate_slot(
        self,
        slot: int,
        to_node: ClusterNode,
        *,
        keys_per_batch: int = 100,
        after_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Moves `slot` to the primary `to_node` as redis-cli's resharding does: SETSLOT
        IMPORTING/MIGRATING, MIGRATE of its keys in batches, then SETSLOT NODE everywhere.

        Clients keep working meanwhile: keys already moved are answered with ASK, and after
        the last step every node answers MOVED.

        Args:
            slot: the hash slot, 0..16383.
            to_node: a primary of this cluster (one of `primaries`).
            keys_per_batch: keys per MIGRATE call.
            after_batch: called with the number of keys moved so far after each MIGRATE, so a
                test can act while the slot is half-migrated.

        Raises:
            ValueError: bad slot, batch size, or `to_node` is not a primary of this cluster.
        """
        _check_slot(slot)
        require_type(keys_per_batch, int, "keys_per_batch", "an int")
        if keys_per_batch <= 0:
            msg = f"keys_per_batch must be > 0, got {keys_per_batch}"
            raise ValueError(msg)
        primaries = self.primaries
        if to_node not in primaries:
            msg = f"to_node must be a primary of this cluster, got {to_node!r}"
            raise ValueError(msg)
        source = self.primary_of_slot(slot)
        if source is to_node:
            return
        source_id, target_id = _node_id(source), _node_id(to_node)
        to_node.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        moved = 0
        while keys := source.command(
            "CLUSTER", "GETKEYSINSLOT", slot, keys_per_batch, decode=False
        ):
            source.command("MIGRATE", HOST, to_node.port, "", 0, 5000, "KEYS", *keys)
            moved += len(keys)
            if after_batch is not None:
                after_batch(moved)
        # The target first, so that once the source lets go nobody is sent back to it.
        for node in [to_node, source, *(p for p in primaries if p not in (source, to_node))]:
            node.command("CLUSTER", "SETSLOT", slot, "NODE", target_id)

    # -- internals -----------------------------------------------------------------------

    def _create(self) -> None:
        cli = require_executable("redis-cli", "redis-tools")
        hosts = [f"{h}:{p}" for h, p in self.startup_nodes]
        argv = [cli, "--cluster", "create", *hosts, "--cluster-replicas", "1", "--cluster-yes"]
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, timeout=self._timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            msg = f"redis-cli --cluster create took over {self._timeout:g} s"
            raise ServerError(msg) from exc
        if result.returncode != 0:
            msg = f"redis-cli --cluster create failed:\n{result.stdout}{result.stderr}"
            raise ServerError(msg)

    def _live(self) -> list[ClusterNode]:
        return [node for node in self._nodes if node.alive and not node.paused]

    def _any_live_node(self) -> ClusterNode:
        live = self._live()
        if not live:
            msg = "no cluster node is running"
            raise ServerError(msg)
        return live[0]

    def _node_at(self, port: int) -> ClusterNode:
        for node in self._nodes:
            if node.port == port:
                return node
        msg = f"port {port} is not a node of this cluster"
        raise ServerError(msg)

    def _slot_map(self, node: ClusterNode | None = None) -> SlotMap:
        reply = (node or self._any_live_node()).command("CLUSTER", "SLOTS")
        return tuple(sorted((int(r[0]), int(r[1]), int(r[2][1])) for r in reply))

    def _serving(self) -> bool:
        try:
            live = self._live()
            ports = {node.port for node in live}
            maps = set()
            for node in live:
                info = _cluster_info(node)
                if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != str(SLOTS):
                    return False
                maps.add(self._slot_map(node))
        except Exception:  # noqa: BLE001 - a node still starting or failing over
            return False
        if len(maps) != 1:
            return False
        (slot_map,) = maps
        covered = sum(last - first + 1 for first, last, _ in slot_map)
        return covered == SLOTS and all(port in ports for _, _, port in slot_map)

    def _healthy(self) -> bool:
        if len(self._live()) != NODES or not self._serving():
            return False
        try:
            for node in self._nodes:
                info = _cluster_info(node)
                if info.get("cluster_known_nodes") != str(NODES):
                    return False
                nodes = str(node.command("CLUSTER", "NODES"))
                if "fail" in nodes or "disconnected" in nodes or "handshake" in nodes:
                    return False
                replication = node.command("INFO", "replication")
                if replication["role"] == "slave" and replication["master_link_status"] != "up":
                    return False
        except Exception:  # noqa: BLE001 - a node still joining
            return False
        return len(self.primaries) == NODES // 2

    def _wait_healthy(self, timeout: float) -> None:
        wait_for(self._healthy, timeout, lambda: self._report("not healthy", timeout))

    def _report(self, what: str, timeout: float) -> str:
        lines = [f"cluster {what} within {timeout:g} s:"]
        for node in self._nodes:
            state = "dead" if not node.alive else "paused" if node.paused else "alive"
            lines.append(f"  {node!r}: {state}")
            if node.alive and not node.paused:
                try:
                    lines.append(
                        "    " + str(node.command("CLUSTER", "NODES")).replace("\n", "\n    ")
                    )
                except Exception as exc:  # noqa: BLE001 - the report must not fail
                    lines.append(f"    CLUSTER NODES failed: {exc}")
        return "\n".join(lines)


def _check_slot(slot: int) -> None:
    require_type(slot, int, "slot", "an int")
    if not 0 <= slot < SLOTS:
        msg = f"slot must be in 0..{SLOTS - 1}, got {slot}"
        raise ValueError(msg)


def _node_id(node: ClusterNode) -> str:
    return str(node.command("CLUSTER", "MYID"))


def _cluster_info(node: ClusterNode) -> dict[str, str]:
    text = str(node.command("CLUSTER", "INFO"))
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
