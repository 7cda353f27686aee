"""Write-behind durability under faults, on real processes: a worker killed with -9 mid-batch,
the Redis primary killed and failed over by Sentinel, and a primary paused (SIGSTOP) through a
failover that acknowledges writes from an idle pooled connection when it resumes.

Each test counts writes acknowledged by set(), lost (acknowledged, never applied) and
duplicated (applied more than once), prints them, and requires lost == 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stratacache.errors import TierUnavailableError
from stratacache.patterns import WriteBehind
from stratacache.testing.redis_servers import RedisSentinelGroup

from .conftest import RedisStore

WORKER = Path(__file__).with_name("wb_worker_main.py")


def until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail(f"{what} within {timeout} s")


def report(fault: str, acked: dict[str, int], store: RedisStore, refused: int = 0) -> int:
    values = store.values()
    lost = sum(1 for k, v in acked.items() if values.get(k) != repr(v))
    log = store.log()
    duplicated = len(log) - len(set(log))
    sys.stdout.write(
        f"\n[write-behind durability] {fault}: acknowledged={len(acked)} lost={lost} "
        f"duplicated={duplicated} refused={refused}\n"
    )
    return lost


def spawn_worker(url: str, store: RedisStore, name: str) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), url, store.url, store.name, name, "1.0"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_no_acknowledged_write(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    wb = WriteBehind(redis_clean_url, record_store, name="kill", batch=50, partitions=2)
    acked = {}
    for i in range(1000):
        wb.set(f"k{i}", i)
        acked[f"k{i}"] = i
    first = spawn_worker(redis_clean_url, record_store, "kill")
    second = None
    try:
        until(lambda: len(record_store.log()) >= 150, 30, "the first worker applied nothing")
        os.kill(first.pid, signal.SIGKILL)
        stop(first)
        assert wb.stats().pending > 0  # it died holding a batch it never acknowledged
        assert len(record_store.values()) < 1000
        second = spawn_worker(redis_clean_url, record_store, "kill")
        until(lambda: wb.stats().backlog == 0, 60, "the second worker did not drain")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    assert report("worker kill -9 mid-batch", acked, record_store) == 0
    wb.close()


class Writer:
    """Writes unique keys through `wb` on a thread, counting acknowledged and refused ones."""

    def __init__(self, wb: WriteBehind, prefix: str) -> None:
        self.wb = wb
        self.prefix = prefix
        self.acked: dict[str, int] = {}
        self.refused = 0
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        i = 0
        end = time.monotonic() + 90
        while not self.halt.is_set() and time.monotonic() < end and i < 100_000:
            key = f"{self.prefix}{i}"
            try:
                self.wb.set(key, i)
            except TierUnavailableError:
                self.refused += 1
            else:
                self.acked[key] = i
            i += 1


@pytest.mark.failover
def test_sentinel_failover_loses_no_acknowledged_write(
    redis_sentinel_clean: RedisSentinelGroup, record_store: RedisStore
) -> None:
    group = redis_sentinel_clean
    wb = WriteBehind(group.url, record_store, name="failover", batch=50, timeout=20)
    assert wb._appender.replicas == 1
    wb.start(threads=2)
    writer = Writer(wb, "f")
    writer.thread.start()
    try:
        until(lambda: len(writer.acked) >= 300, 30, "no writes before the fault")
        group.kill_primary()
        group.wait_for_failover()
        after = len(writer.acked)
        until(lambda: len(writer.acked) >= after + 300, 60, "writes did not resume")
    finally:
        writer.halt.set()
        writer.thread.join(timeout=60)
    wb.flush(timeout=60)
    wb.close()
    group.heal()
    assert (
        report("sentinel failover, primary kill -9", writer.acked, record_store, writer.refused)
        == 0
    )


def write_all(wb: WriteBehind, prefix: str, n: int) -> tuple[dict[str, int], int]:
    """`n` writes through `wb`: the acknowledged ones, and how many raised."""
    acked: dict[str, int] = {}
    refused = 0
    for i in range(n):
        try:
            wb.set(f"{prefix}{i}", i)
        except TierUnavailableError:
            refused += 1
        else:
            acked[f"{prefix}{i}"] = i
    return acked, refused


@pytest.mark.failover
def test_paused_old_primary_does_not_lose_acknowledged_writes(
    redis_sentinel_clean: RedisSentinelGroup, record_store: RedisStore
) -> None:
    group = redis_sentinel_clean
    idle = WriteBehind(group.url, record_store, name="paused", timeout=20)
    # The control: the same pipeline trusting a plain OK (no WAIT), on its own streams.
    trusting = WriteBehind(group.url, record_store, name="trusting", timeout=20, replicas=0)
    idle.set("warm", 0)  # each leaves a pooled connection to the primary, idle through it
    trusting.set("warm-t", 0)
    old = group.primary
    old.pause()
    try:
        group.wait_for_failover(previous=old.address)
    finally:
        old.resume()
    # The old primary believes it is primary for a while now: it takes both writers' XADDs.
    control, _ = write_all(trusting, "t", 100)
    acked, refused = write_all(idle, "p", 100)
    acked["warm"] = 0
    retried = idle.stats().append_retries
    group.heal()  # the old primary is a replica again: what it alone took is gone
    for name in ("paused", "trusting"):
        drain = WriteBehind(group.url, record_store, name=name, timeout=20)
        drain.flush(timeout=60)
        drain.close()
    idle.close()
    trusting.close()
    values = record_store.values()
    control_lost = sum(1 for k in control if k not in values)
    sys.stdout.write(
        f"\n[write-behind durability] paused primary: appends retried={retried}; without WAIT "
        f"{control_lost} of {len(control)} acknowledged writes were lost\n"
    )
    assert retried >= 1  # the deposed primary's OK was seen, and not trusted
    assert control_lost > 0  # the fault really happened: a plain OK lost writes
    assert report("old primary SIGSTOP then SIGCONT", acked, record_store, refused) == 0
