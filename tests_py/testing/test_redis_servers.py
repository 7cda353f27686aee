"""stratacache.testing.redis_servers against real redis-server processes, with redis-py."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

from stratacache.testing import _process, redis_servers

NO_RETRY: dict[str, Any] = {"retry": Retry(NoBackoff(), 0), "socket_timeout": 2.0}


def pid_exists(pid: int) -> bool:
    """True if `pid` runs; a zombie waiting for init to reap it counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def client(redis_clean_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_clean_url, **NO_RETRY) as c:
        yield c


# -- standalone ---------------------------------------------------------------------------


def test_standalone_set_get(client: redis.Redis, redis_server: redis_servers.RedisServer) -> None:
    assert client.set("k", "v")
    assert client.get("k") == b"v"
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}


async def test_standalone_set_get_async(redis_clean_url: str) -> None:
    c = redis.asyncio.Redis.from_url(redis_clean_url)
    try:
        assert await c.set("k", "v")
        assert await c.get("k") == b"v"
    finally:
        await c.aclose()


def test_clean_url_starts_empty(client: redis.Redis) -> None:
    assert client.dbsize() == 0


def test_kill_then_restart_on_the_same_port(
    fresh_redis_server: redis_servers.RedisServer,
) -> None:
    server = fresh_redis_server
    port, pid = server.port, server.pid
    server.kill()
    assert not pid_exists(pid)
    assert not server.alive
    with redis.Redis(port=port, **NO_RETRY) as c, pytest.raises(redis.ConnectionError):
        c.ping()
    server.restart()
    assert server.port == port
    assert server.pid != pid
    with redis.Redis.from_url(server.url, **NO_RETRY) as c:
        assert c.ping()


def test_pause_hangs_the_server_until_resume(
    fresh_redis_server: redis_servers.RedisServer,
) -> None:
    server = fresh_redis_server
    with redis.Redis.from_url(server.url, retry=Retry(NoBackoff(), 0), socket_timeout=0.2) as c:
        assert c.ping()
        server.pause()
        with pytest.raises(redis.TimeoutError):
            c.ping()
        server.resume()
    with redis.Redis.from_url(server.url, **NO_RETRY) as c:
        assert c.ping()


def test_flushall_empties_the_server(fresh_redis_server: redis_servers.RedisServer) -> None:
    with redis.Redis.from_url(fresh_redis_server.url, **NO_RETRY) as c:
        c.set("k", "v")
        fresh_redis_server.flushall()
        assert c.dbsize() == 0


def test_stop_ends_the_process_and_removes_the_dir() -> None:
    server = redis_servers.RedisServer().start()
    pid, directory = server.pid, server.directory
    assert directory.is_dir()
    server.pause()  # a hung server must stop too
    server.stop()
    assert not pid_exists(pid)
    assert not directory.exists()
    server.stop()  # twice is fine


def test_stop_sends_sigkill_when_sigterm_is_ignored(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    log = tmp_path / "log"
    process = _process.ManagedProcess([sys.executable, "-c", code], tmp_path, log)
    _process.wait_for(lambda: "ready" in log.read_text(), 10, lambda: "the child never got ready")
    process.stop(grace=0.3)
    assert process.returncode() == -signal.SIGKILL
    assert not pid_exists(process.pid)


EXIT_WITHOUT_STOP = textwrap.dedent(
    """
    import os, signal, sys
    from stratacache.testing import redis_servers
    server = redis_servers.RedisServer().start()
    print(server.pid, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_servers_die_with_the_interpreter(how: str) -> None:
    # "exit": the atexit hooks stop it; "kill": no hook runs, the parent-death signal does.
    result = subprocess.run(
        [sys.executable, "-c", EXIT_WITHOUT_STOP, how],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    pid = int(result.stdout.split()[0])
    _process.wait_for(lambda: not pid_exists(pid), 5, lambda: f"redis-server {pid} survived")


class _TakenFirstPort(redis_servers.RedisServer):
    """Offers a port that another socket holds first, then a free one."""

    def __init__(self, taken: int) -> None:
        super().__init__()
        self.offered = [taken]

    def _pick_port(self) -> int:
        port = self.offered[-1] if len(self.offered) == 1 else _process.free_port()
        self.offered.append(port)
        return port


def test_a_taken_port_is_retried_with_another() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with _TakenFirstPort(taken) as server:
            assert server.port != taken
            assert server.offered[:2] == [taken, taken]
            with redis.Redis(port=server.port, **NO_RETRY) as c:
                assert c.ping()


def test_start_failure_shows_the_log_tail() -> None:
    server = redis_servers.RedisServer(config=["no-such-directive yes"])
    with pytest.raises(redis_servers.ServerError, match="no-such-directive"):
        server.start()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port


def test_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="startup_timeout"):
        redis_servers.RedisServer(startup_timeout=0)
    with pytest.raises(TypeError, match="config"):
        redis_servers.RedisServer(config="maxmemory 1mb")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="service_name"):
        redis_servers.RedisSentinelGroup(service_name="a b")
    with pytest.raises(ValueError, match="node_timeout_ms"):
        redis_servers.RedisClusterGroup(node_timeout_ms=0)


def test_cli_prints_the_url_and_stops_on_sigterm() -> None:
    cli = subprocess.Popen(
        [sys.executable, "-m", "stratacache.testing.redis_servers", "standalone"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cli.stdout is not None
        url = cli.stdout.readline().strip()
        assert url.startswith("redis://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with redis.Redis.from_url(url, **NO_RETRY) as c:
            assert c.ping()
        cli.send_signal(signal.SIGTERM)
        cli.communicate(timeout=30)
    finally:
        cli.kill()
        cli.wait()
    assert not accepts_connections(port)


# -- TLS and ACL --------------------------------------------------------------------------


def test_tls_writer_sets_and_gets(redis_tls_clean: redis_servers.RedisTLSServer) -> None:
    server = redis_tls_clean
    assert server.url.startswith(f"rediss://writer:{server.password_for('writer')}@127.0.0.1:")
    with redis.Redis.from_url(server.url, ssl_ca_certs=str(server.ca_file), **NO_RETRY) as c:
        assert c.set("k", "v")
        assert c.get("k") == b"v"
        assert c.incr("n") == 1
        assert c.publish("channel", "x") == 0
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.flushall()


async def test_tls_async(redis_tls_clean: redis_servers.RedisTLSServer) -> None:
    server = redis_tls_clean
    c = redis.asyncio.Redis.from_url(server.url, ssl_ca_certs=str(server.ca_file))
    try:
        assert await c.set("k", "v")
        assert await c.get("k") == b"v"
    finally:
        await c.aclose()


def test_tls_reader_cannot_write(redis_tls_clean: redis_servers.RedisTLSServer) -> None:
    server = redis_tls_clean
    url = server.url_for("reader")
    with redis.Redis.from_url(url, ssl_ca_certs=str(server.ca_file), **NO_RETRY) as c:
        assert c.get("missing") is None
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.set("k", "v")


def test_tls_wrong_password_is_refused(redis_tls: redis_servers.RedisTLSServer) -> None:
    with (
        redis.Redis(
            port=redis_tls.port,
            ssl=True,
            ssl_ca_certs=str(redis_tls.ca_file),
            username="writer",
            password="wrong",
            **NO_RETRY,
        ) as c,
        pytest.raises(redis.AuthenticationError),
    ):
        c.ping()


def test_tls_certificate_is_verified(redis_tls: redis_servers.RedisTLSServer) -> None:
    # Without our CA the system store must reject the throwaway certificate.
    with (
        redis.Redis.from_url(redis_tls.url, **NO_RETRY) as c,
        pytest.raises(redis.ConnectionError, match="certificate"),
    ):
        c.ping()


def test_tls_plaintext_port_is_closed(redis_tls: redis_servers.RedisTLSServer) -> None:
    with (
        redis.Redis(port=redis_tls.port, **NO_RETRY) as c,
        pytest.raises(redis.ConnectionError),
    ):
        c.ping()


def test_tls_client_certificate_when_required() -> None:
    with redis_servers.RedisTLSServer(client_auth=True) as server:
        ca = {"ssl_ca_certs": str(server.ca_file)}
        with redis.Redis.from_url(server.url, **server.ssl_options(), **NO_RETRY) as c:
            assert c.ping()
        with (
            redis.Redis.from_url(server.url, **ca, **NO_RETRY) as c,
            pytest.raises(redis.ConnectionError),
        ):
            c.ping()
        pid, directory = server.pid, server.directory
    assert not pid_exists(pid)
    assert not directory.exists()


# -- Sentinel -----------------------------------------------------------------------------


def test_sentinel_master_for(redis_sentinel_clean: redis_servers.RedisSentinelGroup) -> None:
    group = redis_sentinel_clean
    assert (
        group.url
        == "redis+sentinel://"
        + ",".join(f"127.0.0.1:{port}" for _, port in group.sentinel_addresses)
        + f"/{group.service_name}"
    )
    sentinel = Sentinel(group.sentinel_addresses, socket_timeout=2.0)
    primary = sentinel.master_for(group.service_name)
    try:
        assert sentinel.discover_master(group.service_name) == group.primary.address
        assert primary.set("k", "v")
        assert primary.get("k") == b"v"
        assert primary.wait(2, 5000) == 2
        assert len(sentinel.discover_slaves(group.service_name)) == 2
    finally:
        primary.close()
        for s in sentinel.sentinels:
            s.close()


async def test_sentinel_async(redis_sentinel_clean: redis_servers.RedisSentinelGroup) -> None:
    group = redis_sentinel_clean
    sentinel = redis.asyncio.sentinel.Sentinel(group.sentinel_addresses, socket_timeout=2.0)
    primary = sentinel.master_for(group.service_name)
    try:
        assert await primary.set("k", "v")
        assert await primary.get("k") == b"v"
    finally:
        await primary.aclose()
        for s in sentinel.sentinels:
            await s.aclose()


@pytest.mark.failover
def test_sentinel_failover(redis_sentinel_clean: redis_servers.RedisSentinelGroup) -> None:
    group = redis_sentinel_clean
    sentinel = Sentinel(group.sentinel_addresses, socket_timeout=2.0)
    try:
        primary = sentinel.master_for(group.service_name)
        primary.set("before", "1")
        assert primary.wait(2, 5000) == 2
        primary.close()
        killed = group.kill_primary()
        assert not killed.alive
        address = group.wait_for_failover(timeout=30)
        assert address != killed.address
        assert group.primary.address == address
        primary = sentinel.master_for(group.service_name)
        assert primary.set("after", "2")
        assert primary.get("before") == b"1"
        primary.close()
        group.heal()
        assert all(server.alive for server in group.servers)
        assert len(group.replicas) == 2
        assert killed in group.replicas
    finally:
        for s in sentinel.sentinels:
            s.close()
        group.heal()


def test_sentinel_heal_restarts_sentinels_and_resumes_replicas(
    redis_sentinel_clean: redis_servers.RedisSentinelGroup,
) -> None:
    group = redis_sentinel_clean
    sentinel, replica = group.sentinels[0], group.replicas[0]
    sentinel.kill()
    replica.pause()
    group.heal()
    assert sentinel.alive
    assert not replica.paused
    with redis.Redis(port=sentinel.port, decode_responses=True, **NO_RETRY) as c:
        assert c.sentinel_get_master_addr_by_name(group.service_name) == group.primary.address


def test_sentinel_group_stop_ends_every_process() -> None:
    with redis_servers.RedisSentinelGroup(service_name="short_lived") as group:
        pids = [p.pid for p in [*group.servers, *group.sentinels]]
        directories = [p.directory for p in [*group.servers, *group.sentinels]]
        assert len(set(pids)) == 6
    assert not any(pid_exists(pid) for pid in pids)
    assert not any(d.exists() for d in directories)


# -- Cluster ------------------------------------------------------------------------------


@pytest.fixture
def cluster_client(
    redis_cluster_clean: redis_servers.RedisClusterGroup,
) -> Iterator[RedisCluster]:
    host, port = redis_cluster_clean.startup_nodes[0]
    c = RedisCluster(host=host, port=port, socket_timeout=2.0)
    try:
        yield c
    finally:
        c.close()


def test_cluster_spreads_keys_over_three_primaries(
    redis_cluster_clean: redis_servers.RedisClusterGroup, cluster_client: RedisCluster
) -> None:
    cluster = redis_cluster_clean
    assert cluster.url == "redis+cluster://" + ",".join(
        f"127.0.0.1:{p}" for _, p in cluster.startup_nodes
    )
    for i in range(60):
        cluster_client.set(f"key:{i}", i)
    assert [cluster_client.get(f"key:{i}") for i in range(60)] == [
        str(i).encode() for i in range(60)
    ]
    primaries = cluster.primaries
    assert len(primaries) == 3
    assert all(int(node.command("DBSIZE")) > 0 for node in primaries)


async def test_cluster_async(redis_cluster_clean: redis_servers.RedisClusterGroup) -> None:
    host, port = redis_cluster_clean.startup_nodes[0]
    c = redis.asyncio.cluster.RedisCluster(host=host, port=port)
    try:
        assert await c.set("k", "v")
        assert await c.get("k") == b"v"
    finally:
        await c.aclose()


def test_cluster_slot_migration_keeps_values_readable(
    redis_cluster_clean: redis_servers.RedisClusterGroup, cluster_client: RedisCluster
) -> None:
    cluster = redis_cluster_clean
    keys = [f"{{moving}}:{i}" for i in range(12)]
    for key in keys:
        cluster_client.set(key, key)
    slot = cluster.key_slot(keys[0])
    source = cluster.primary_of_slot(slot)
    target = next(node for node in cluster.primaries if node is not source)
    seen: list[int] = []

    def mid_migration(moved: int) -> None:
        # Half-moved slot: redis-py must follow ASK for moved keys and for new ones.
        seen.append(moved)
        assert [cluster_client.get(key) for key in keys] == [k.encode() for k in keys]
        cluster_client.set(f"{{moving}}:new{moved}", "n")

    cluster.migrate_slot(slot, target, keys_per_batch=5, after_batch=mid_migration)
    assert seen[0] == 5
    assert cluster.primary_of_slot(slot) is target
    assert [cluster_client.get(key) for key in keys] == [k.encode() for k in keys]
    assert all(cluster_client.get(f"{{moving}}:new{n}") == b"n" for n in seen)
    assert int(source.command("CLUSTER", "COUNTKEYSINSLOT", slot)) == 0
    cluster.migrate_slot(slot, source)  # and back, leaving the layout as it was
    assert cluster.primary_of_slot(slot) is source


def test_migrate_slot_validates(redis_cluster: redis_servers.RedisClusterGroup) -> None:
    replica = next(n for n in redis_cluster.nodes if n not in redis_cluster.primaries)
    with pytest.raises(ValueError, match="slot"):
        redis_cluster.migrate_slot(16384, redis_cluster.primaries[0])
    with pytest.raises(ValueError, match="primary"):
        redis_cluster.migrate_slot(0, replica)


@pytest.mark.failover
def test_cluster_failover(
    redis_cluster_clean: redis_servers.RedisClusterGroup, cluster_client: RedisCluster
) -> None:
    cluster = redis_cluster_clean
    cluster_client.set("victim", "1")
    cluster.wait_replicated("victim")
    killed = cluster.kill_primary_of("victim")
    try:
        assert not killed.alive
        cluster.wait_cluster_ok(timeout=30)
        promoted = cluster.primary_of_slot(cluster.key_slot("victim"))
        assert promoted is not killed
        assert promoted.command("GET", "victim") == "1"  # wait_replicated saw to it
        assert killed not in cluster.primaries
        assert cluster_client.set("victim", "2")
        assert cluster_client.get("victim") == b"2"
        cluster.heal()
        assert killed.alive
        assert len(cluster.primaries) == 3
    finally:
        cluster.heal()


def test_cluster_stop_ends_every_process() -> None:
    with redis_servers.RedisClusterGroup() as cluster:
        pids = [node.pid for node in cluster.nodes]
        directories = [node.directory for node in cluster.nodes]
    assert not any(pid_exists(pid) for pid in pids)
    assert not any(d.exists() for d in directories)


def test_tls_server_names_are_checked() -> None:
    with pytest.raises(ValueError, match="server_names"):
        redis_servers.RedisTLSServer(server_names=())
    with pytest.raises(TypeError, match="server_names"):
        redis_servers.RedisTLSServer(server_names=("DNS:ok", 7))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="server_names"):
        redis_servers.RedisTLSServer(server_names="DNS:wrong.example")  # type: ignore[arg-type]
