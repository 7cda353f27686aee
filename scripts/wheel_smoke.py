"""Smoke test of an installed stratacache wheel, run by scripts/wheel_proof.sh in a fresh venv.

Checks what a user of the bare wheel (no extras) gets: the package comes from the venv, not the
source tree; importing it loads no optional dependency; L1 get/set and its bound; Codec round
trips through lz4, zstd, AES-256-GCM and HMAC-SHA256, with tampering detected; `simulate` on the
shipped sample trace, agreeing with a Python LRU; a disk tier round trip (LMDB); the native
libraries mapped into the process are the wheel's own copies (stratacache.libs/), never the
system's; and a missing extra raises MissingExtraError naming its pip line. Prints one line
per check, exits 1 on the first failure. Arguments name the steps to run (default: all), e.g. ``wheel_smoke.py missing_extra``.
"""

from __future__ import annotations

import collections
import gzip
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import stratacache
from stratacache import CodecError
from stratacache._extras import MissingExtraError, available
from stratacache.data import SAMPLE_TRACE

OPTIONAL = ("redis", "hiredis", "tqdm", "matplotlib", "numpy", "IPython")
NATIVE = ("libcrypto", "libssl", "liblz4", "libzstd", "liblmdb", "libisal")


def check(name: str, condition: bool, detail: str = "") -> None:
    """Prints the outcome of one check; exits 1 if it failed."""
    print(f"  {'ok  ' if condition else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not condition:
        sys.exit(1)


def raises(call: Callable[[], object], error: type[BaseException]) -> BaseException | None:
    """The exception of type `error` that `call` raised, or None."""
    try:
        call()
    except error as e:
        return e
    return None


def check_install() -> None:
    where = Path(stratacache.__file__).resolve()
    check("imported from the venv", where.is_relative_to(Path(sys.prefix).resolve()), str(where))
    loaded = sorted(m for m in OPTIONAL if m in sys.modules)
    check("no optional dependency imported", not loaded, ", ".join(loaded))
    print(f"  version {stratacache.__version__}, Python {sys.version.split()[0]}")


def check_l1() -> None:
    cache = stratacache.Cache(max_entries=100)
    value = {"name": "Ada", "langs": ["en", "fr"]}
    cache.set("user:1", value)
    check("L1 get returns the stored object", cache.get("user:1") is value)
    check("L1 miss returns the default", cache.get("user:2", default="none") == "none")
    for i in range(1_000):
        cache.set(f"k{i}", i)
    stats = cache.stats()
    check("L1 stays within max_entries", stats.entries <= 100, f"{stats.entries} entries")


def check_decorator() -> None:
    cache = stratacache.Cache(max_entries=100)
    calls: list[tuple[int, str]] = []

    @cache.cache(ttl=60)
    def load(item: int, locale: str = "en") -> dict[str, object]:
        calls.append((item, locale))
        return {"item": item, "locale": locale}

    first = load(1)
    again = [load(1), load(1, "en"), load(item=1)]  # one key: the C hit path serves them
    check("@cache: hits return the stored object", all(v is first for v in again))
    check("@cache: the loader ran once", calls == [(1, "en")], str(calls))
    load(2, "fr")
    check("@cache: other arguments miss", calls == [(1, "en"), (2, "fr")], str(calls))
    named = stratacache.Cache(max_entries=100).cache(ttl=60)(lambda key: [key])
    check("@cache: str arguments hit", named("abc") is named("abc"))


def check_codec() -> None:
    value = {"id": 7, "text": "stratacache " * 4_000, "blob": bytes(range(256)) * 64}
    raw = len(stratacache.Codec(compression=None).encode("k", value))
    for compression in ("lz4", "zstd"):
        codec = stratacache.Codec(compression=compression)
        data = codec.encode("k", value)
        check(f"{compression} round trip", codec.decode("k", data) == value)
        check(f"{compression} compresses", len(data) < raw // 4, f"{len(data):,} of {raw:,} B")
    key, other = os.urandom(32), os.urandom(32)
    aes = stratacache.Codec(compression="zstd", encryption_keys=[key])
    sealed = aes.encode("user:1", value)
    check("AES-256-GCM round trip", aes.decode("user:1", sealed) == value)
    check("AES-256-GCM hides the value", b"stratacache" not in sealed)
    check(
        "AES-GCM: another cache key fails",
        raises(lambda: aes.decode("user:2", sealed), CodecError) is not None,
    )
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    check(
        "AES-GCM: a flipped bit fails",
        raises(lambda: aes.decode("user:1", bytes(flipped)), CodecError) is not None,
    )
    wrong = stratacache.Codec(compression="zstd", encryption_keys=[other])
    check(
        "AES-GCM: another key fails",
        raises(lambda: wrong.decode("user:1", sealed), CodecError) is not None,
    )
    signed = stratacache.Codec(signing_key=key)
    check("HMAC-SHA256 round trip", signed.decode("k", signed.encode("k", value)) == value)


def python_lru(path: Path, capacity: int) -> float:
    """The hit ratio of an LRU cache of `capacity` entries on an ints trace, in pure Python."""
    held: collections.OrderedDict[str, None] = collections.OrderedDict()
    hits = requests = 0
    with gzip.open(path, "rt") as f:
        for line in f:
            requests += 1
            key = line.strip()
            if key in held:
                hits += 1
                held.move_to_end(key)
            else:
                held[key] = None
                if len(held) > capacity:
                    held.popitem(last=False)
    return hits / requests


def check_simulate() -> None:
    check("the sample trace is installed", SAMPLE_TRACE.is_file(), str(SAMPLE_TRACE))
    ratios = {
        p: stratacache.simulate(SAMPLE_TRACE, policy=p, capacity=500).hit_ratio
        for p in (*stratacache.POLICIES, "opt")
    }
    print(
        "  simulate(sample, capacity=500): " + ", ".join(f"{p} {r:.4f}" for p, r in ratios.items())
    )
    expected = python_lru(SAMPLE_TRACE, 500)
    check("simulate lru == a Python LRU", abs(ratios["lru"] - expected) < 1e-12, f"{expected:.4f}")
    check("OPT bounds every policy", all(ratios["opt"] >= r for r in ratios.values()))


def check_disk() -> None:
    with tempfile.TemporaryDirectory() as d:
        opts = stratacache.DiskOptions(Path(d) / "disk", max_bytes=1 << 20, durability="sync")
        stratacache.Cache(disk=opts).set("k", {"on": "disk"})
        other = stratacache.Cache(disk=opts)  # an empty L1: the value comes from LMDB
        check("disk tier serves another cache's write", other.get("k") == {"on": "disk"})


def check_native_libraries() -> None:
    libs = (Path(stratacache.__file__).resolve().parent.parent / "stratacache.libs").resolve()
    mapped = set()
    with Path("/proc/self/maps").open(encoding="utf-8") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and Path(fields[5].strip()).name.startswith(NATIVE):
                mapped.add(fields[5].strip())
    print("  mapped: " + ", ".join(sorted(Path(p).name for p in mapped)))
    for name in ("libcrypto", "liblz4", "libzstd", "liblmdb", "libisal"):
        check(f"{name} is mapped", any(Path(p).name.startswith(name) for p in mapped))
    outside = sorted(p for p in mapped if not Path(p).resolve().is_relative_to(libs))
    check("every one comes from stratacache.libs/", not outside, ", ".join(outside))


def check_missing_extra() -> None:
    if available("redis"):
        print("  skip: redis is installed here, no missing extra to see")
        return
    try:
        import ssl  # noqa: F401, PLC0415 - the Redis tier's clients import it
    except ImportError as e:  # wheel_proof.sh hides libssl/libcrypto from Python's _ssl too
        print(f"  skip Cache(redis=...): Python's own ssl module cannot load here ({e})")
        return
    error = raises(lambda: stratacache.Cache(redis="redis://127.0.0.1:6379/0"), MissingExtraError)
    check(
        "Cache(redis=...) without redis names the extra",
        error is not None and "pip install 'stratacache[redis]'" in str(error),
        str(error),
    )


def main() -> int:
    steps = [
        check_install,
        check_l1,
        check_decorator,
        check_codec,
        check_simulate,
        check_disk,
        check_native_libraries,
        check_missing_extra,
    ]
    if len(sys.argv) > 1:  # only the named steps: `wheel_smoke.py missing_extra`
        steps = [s for s in steps if s.__name__.removeprefix("check_") in sys.argv[1:]]
    for step in steps:
        print(f"{step.__name__.removeprefix('check_')}:")
        step()
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
