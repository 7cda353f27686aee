"""The codec releases the GIL around compression and encryption of large payloads."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from stratacache import Codec

KEY = "gil:key"
# Incompressible and large: compressing, encrypting and decrypting it take milliseconds.
BIG = os.urandom(16 << 20)


@pytest.fixture(autouse=True)
def no_forced_switches() -> Iterator[None]:
    """With a huge switch interval this thread keeps the GIL until it gives it up itself, so
    the other thread can only count while the codec has released it."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def progress_during(work: Callable[[], object]) -> int:
    """How many loop iterations another thread made while `work` ran in this one."""
    count = 0
    started = threading.Event()
    stop = False

    def spin() -> None:
        nonlocal count
        started.set()
        while not stop:
            count += 1
            time.sleep(0)  # gives the GIL back, so the main thread is never starved

    thread = threading.Thread(target=spin)
    thread.start()
    started.wait()
    before = count
    work()
    after = count
    stop = True
    thread.join()
    return after - before


def make_codec(release_gil_above: int) -> Codec:
    return Codec(
        compression="zstd",
        encryption_keys=bytes(32),
        max_value_bytes=64 << 20,
        release_gil_above=release_gil_above,
    )


def test_large_encode_and_decode_release_the_gil() -> None:
    codec = make_codec(release_gil_above=64 << 10)
    data = codec.encode(KEY, BIG)
    assert progress_during(lambda: codec.encode(KEY, BIG)) > 0
    assert progress_during(lambda: codec.decode(KEY, data)) > 0


def test_below_release_gil_above_the_gil_is_kept() -> None:
    codec = make_codec(release_gil_above=(64 << 20) - 1)
    data = codec.encode(KEY, BIG)
    assert progress_during(lambda: codec.encode(KEY, BIG)) == 0
    assert progress_during(lambda: codec.decode(KEY, data)) == 0
