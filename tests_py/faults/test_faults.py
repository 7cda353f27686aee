"""The fault run of issue 11 as tests: a user-style app of four processes (two sync readers,
one asyncio reader, one writer; `app.py`) under load on real servers, each fault injected in
turn (`runner.py`), judged by `verdict.py`.

Each test asserts behaviour only: no exception reached the app, no wrong value was read, no
read was stale beyond the coherence window (`verdict.WINDOW_S`). Latency against the call
deadline and recovery times are reported in the summary table and the results file.
The baseline test runs the same load without a fault: what it finds needs no fault at all.

Faults: kill -9 then restart on the same port (with AOF, so stale values survive it), SIGSTOP
then SIGCONT, Sentinel and Cluster failover (kill -9 of a primary), CLIENT KILL TYPE pubsub,
foreign bytes in value, tag-version and lock keys, and forged envelopes against a signing
key. `make test` runs the short form (one trial, ~80 s in all); `make faults` the long one
(``--faults-long``: three trials, longer phases), whose figures are bench/results/faults.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stratacache.testing.redis_servers import RedisClusterGroup, RedisSentinelGroup, RedisServer

from .app import all_keys
from .runner import (
    KEYS_PER_METHOD,
    App,
    Plan,
    Window,
    call_deadline,
    cluster_primary_kill,
    cut_subscriptions,
    kill_and_restart,
    plant_foreign_bytes,
    sentinel_failover,
    stop_and_continue,
)
from .verdict import Verdict, judge

pytestmark = pytest.mark.faults

SIGNING_KEY = bytes(range(100, 132))


def final_versions(database: RedisServer) -> dict[str, int]:
    keys = all_keys(KEYS_PER_METHOD)
    found = database.command("MGET", *[f"rec:{k}" for k in keys])
    return {k: int(v or 0) for k, v in zip(keys, found, strict=True)}


def run(
    case: str,
    url: str,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    *,
    inject: Callable[[], Window | None],
    between: Callable[[], None] | None = None,
    signing_key: bytes | None = None,
) -> Verdict:
    """Warms the app up, then per trial injects the fault and lets the load run on."""
    windows: list[Window] = []
    with App(url, database.url, tmp_path, plan, signing_key=signing_key) as app:
        time.sleep(plan.warm)
        for trial in range(plan.trials):
            window = inject()
            if window is not None:
                windows.append(window)
            time.sleep(plan.after)
            if between is not None and trial + 1 < plan.trials:
                between()
        logs = app.stop()
    return judge(
        case,
        plan.form,
        logs=logs,
        windows=windows,
        final_versions=final_versions(database),
        deadline_s=call_deadline(app.options),
    )


def check(verdict: Verdict, fault_report: Callable[[Verdict], None]) -> None:
    fault_report(verdict)
    outcome = (verdict.exceptions, verdict.wrong, verdict.stale)
    assert outcome == (0, 0, 0), verdict.failures()
    assert verdict.reads > 1000
    assert verdict.acks > 50


def test_no_fault_baseline(
    fresh_redis_server: RedisServer,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    verdict = run("baseline", fresh_redis_server.url, database, tmp_path, plan, inject=lambda: None)
    check(verdict, fault_report)


def test_kill_9_then_restart_on_the_same_port(
    database: RedisServer, tmp_path: Path, plan: Plan, fault_report: Callable[[Verdict], None]
) -> None:
    # AOF: what the server held before the kill is there after it, stale values included.
    with RedisServer(config=["appendonly yes", "appendfsync everysec"]) as server:
        verdict = run(
            "kill-9",
            server.url,
            database,
            tmp_path,
            plan,
            inject=lambda: kill_and_restart(server, plan),
        )
    check(verdict, fault_report)


def test_sigstop_then_sigcont(
    fresh_redis_server: RedisServer,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    server = fresh_redis_server
    verdict = run(
        "sigstop",
        server.url,
        database,
        tmp_path,
        plan,
        inject=lambda: stop_and_continue(server, plan),
    )
    check(verdict, fault_report)


@pytest.mark.failover
def test_sentinel_failover_after_kill_9_of_the_primary(
    redis_sentinel_clean: RedisSentinelGroup,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    group = redis_sentinel_clean
    try:
        verdict = run(
            "sentinel-failover",
            group.url,
            database,
            tmp_path,
            plan,
            inject=lambda: sentinel_failover(group, plan),
            between=group.heal,
        )
    finally:
        group.heal()
    check(verdict, fault_report)


@pytest.mark.failover
def test_cluster_failover_after_kill_9_of_a_primary(
    redis_cluster_clean: RedisClusterGroup,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    group = redis_cluster_clean
    try:
        verdict = run(
            "cluster-failover",
            group.url,
            database,
            tmp_path,
            plan,
            inject=lambda: cluster_primary_kill(group, plan, "del:0"),
            between=group.heal,
        )
    finally:
        group.heal()
    check(verdict, fault_report)


def test_subscriptions_cut_by_client_kill(
    fresh_redis_server: RedisServer,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    server = fresh_redis_server
    verdict = run(
        "pubsub-cut",
        server.url,
        database,
        tmp_path,
        plan,
        inject=lambda: cut_subscriptions(server, plan),
    )
    check(verdict, fault_report)


def test_foreign_bytes_in_value_tag_and_lock_keys(
    fresh_redis_server: RedisServer,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    server, keys = fresh_redis_server, all_keys(KEYS_PER_METHOD)
    verdict = run(
        "foreign-bytes",
        server.url,
        database,
        tmp_path,
        plan,
        inject=lambda: plant_foreign_bytes(server, plan, keys),
    )
    check(verdict, fault_report)


def test_forged_envelopes_are_refused_with_a_signing_key(
    fresh_redis_server: RedisServer,
    database: RedisServer,
    tmp_path: Path,
    plan: Plan,
    fault_report: Callable[[Verdict], None],
) -> None:
    server, keys = fresh_redis_server, all_keys(KEYS_PER_METHOD)
    verdict = run(
        "forged-envelopes",
        server.url,
        database,
        tmp_path,
        plan,
        inject=lambda: plant_foreign_bytes(server, plan, keys, forged=True),
        signing_key=SIGNING_KEY,
    )
    check(verdict, fault_report)
