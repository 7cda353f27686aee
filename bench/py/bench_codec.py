"""Codec peer comparison: encode and decode of small, medium and large values, plain,
compressed and encrypted -> bench/results/codec.json.

Every implementation encodes the same JSON-like values (so orjson can take part) under the same
key. Peers run in their fastest documented mode: msgpack's C extension, lz4.frame, cryptography's
AESGCM with a fresh random nonce, pickle protocol 5, orjson. "ours" is stratacache.Codec with
the matching settings; below its compress_threshold (1 KiB) it does not compress, which is part
of what is measured. Rows of kind "size" give the bytes each one writes and the compression
ratio. Run with --quick for a run under ~30 s.
"""

from __future__ import annotations

import os
import pickle
import random
import time
from collections.abc import Callable
from typing import Any

import lz4.frame
import msgpack
import orjson
from _harness import (
    Case,
    Options,
    parse_options,
    print_table,
    run_case,
    with_load_average,
    write_results,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import stratacache

KEY = "app:v1:bench:item"
AES_KEY = bytes(range(32))


def small_value() -> dict[str, Any]:
    """About 200 bytes of msgpack: a typical cached record."""
    return {
        "id": 1234567,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "active": True,
        "score": 98.25,
        "roles": ["admin", "editor"],
        "address": {"city": "London", "zip": "NW1 6XE", "country": "GB"},
        "last_login": "2025-06-01T12:30:15Z",
        "tags": None,
    }


def rows_value(n: int, seed: int) -> dict[str, Any]:
    """A JSON-like API response with `n` product rows."""
    rng = random.Random(seed)
    words = ["red", "blue", "large", "small", "cotton", "steel", "classic", "pro", "eco", "max"]
    return {
        "page": 1,
        "total": n,
        "items": [
            {
                "sku": f"SKU-{rng.randrange(10**6):06d}",
                "title": " ".join(rng.choice(words) for _ in range(4)),
                "price": round(rng.uniform(1, 500), 2),
                "stock": rng.randrange(1000),
                "available": rng.random() < 0.8,
                "ratings": [rng.randrange(1, 6) for _ in range(3)],
            }
            for _ in range(n)
        ],
    }


def values(seed: int) -> dict[str, Any]:
    return {
        "small": small_value(),
        "medium": rows_value(80, seed),  # ~10 KB of msgpack
        "large": rows_value(8500, seed),  # ~1 MB of msgpack
    }


def loop(op: Callable[[], object], n: int) -> Callable[[], int]:
    def run() -> int:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            op()
        return time.perf_counter_ns() - t0

    return run


def ops_for(size: str, opts: Options) -> int:
    per = {"small": 10, "medium": 300, "large": 20_000}[size]
    return max(3, opts.n // per)


def aes_seal(data: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(AES_KEY).encrypt(nonce, data, KEY.encode())


def aes_open(data: bytes) -> bytes:
    return AESGCM(AES_KEY).decrypt(data[:12], data[12:], KEY.encode())


def peers(variant: str) -> dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]]:
    """Name -> (encode, decode) of each peer for a variant."""
    lz4c = lz4.frame.compress
    lz4d = lz4.frame.decompress
    packb = msgpack.packb
    unpackb = msgpack.unpackb
    if variant == "plain":
        return {
            "msgpack": (packb, unpackb),
            "pickle": (lambda v: pickle.dumps(v, protocol=5), pickle.loads),
            "orjson": (orjson.dumps, orjson.loads),
        }
    if variant == "lz4":
        return {
            "msgpack+lz4.frame": (lambda v: lz4c(packb(v)), lambda b: unpackb(lz4d(b))),
            "pickle+lz4.frame": (
                lambda v: lz4c(pickle.dumps(v, protocol=5)),
                lambda b: pickle.loads(lz4d(b)),
            ),
            "orjson+lz4.frame": (lambda v: lz4c(orjson.dumps(v)), lambda b: orjson.loads(lz4d(b))),
        }
    return {
        "msgpack+lz4.frame+AESGCM": (
            lambda v: aes_seal(lz4c(packb(v))),
            lambda b: unpackb(lz4d(aes_open(b))),
        ),
    }


def ours(variant: str) -> stratacache.Codec:
    if variant == "plain":
        return stratacache.Codec(compression=None)
    if variant == "lz4":
        return stratacache.Codec(compression="lz4")
    return stratacache.Codec(compression="lz4", encryption_keys=AES_KEY)


def cases_for(size: str, value: Any, variant: str, opts: Options) -> list[Case]:
    codec = ours(variant)
    n = ops_for(size, opts)
    params = {"size": size, "variant": variant, "msgpack_bytes": len(msgpack.packb(value))}
    encode = Case(f"encode/{size}/{variant}", n, params=dict(params))
    decode = Case(f"decode/{size}/{variant}", n, params=dict(params))
    data = codec.encode(KEY, value)
    encode.add("stratacache.Codec", loop(lambda: codec.encode(KEY, value), n), ours=True)
    decode.add("stratacache.Codec", loop(lambda: codec.decode(KEY, data), n), ours=True)
    for name, (enc, dec) in peers(variant).items():
        blob = enc(value)
        assert dec(blob) == value, name
        encode.add(name, loop(lambda enc=enc: enc(value), n))
        decode.add(name, loop(lambda dec=dec, blob=blob: dec(blob), n))
    if variant == "lz4":  # ceiling: lz4 alone over msgpack bytes already made
        packed = msgpack.packb(value)
        encode.add("ceiling: lz4.frame only", loop(lambda: lz4.frame.compress(packed), n))
    return [encode, decode]


def size_rows(size: str, value: Any) -> list[dict[str, Any]]:
    raw = len(msgpack.packb(value))
    outputs = {
        "stratacache.Codec lz4": ours("lz4").encode(KEY, value),
        "stratacache.Codec zstd": stratacache.Codec(compression="zstd").encode(KEY, value),
        "stratacache.Codec lz4+AES-GCM": ours("encrypted").encode(KEY, value),
        "msgpack+lz4.frame": lz4.frame.compress(msgpack.packb(value)),
        "orjson+lz4.frame": lz4.frame.compress(orjson.dumps(value)),
        "pickle+lz4.frame": lz4.frame.compress(pickle.dumps(value, protocol=5)),
    }
    return [
        {
            "case": f"size/{size}",
            "impl": name,
            "bytes": len(out),
            "compression_ratio": round(raw / len(out), 3),
            "params": {"msgpack_bytes": raw},
        }
        for name, out in outputs.items()
    ]


def round_trips(size: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows "roundtrip/<size>/<variant>": encode + decode medians of the same run, per
    implementation, with the ratio to ours and, for ours, the time relative to plain."""
    medians = {(r["case"], r["impl"]): r for r in rows if "median_ns" in r}
    out: list[dict[str, Any]] = []
    ours_plain = 0.0
    for variant in ("plain", "lz4", "encrypted"):
        enc, dec = f"encode/{size}/{variant}", f"decode/{size}/{variant}"
        impls = [i for (c, i) in medians if c == enc and (dec, i) in medians]
        total = {i: medians[enc, i]["median_ns"] + medians[dec, i]["median_ns"] for i in impls}
        ours = total["stratacache.Codec"]
        ours_plain = ours_plain or ours
        for impl in impls:
            params = dict(medians[enc, impl]["params"], derived="encode + decode medians")
            if impl == "stratacache.Codec":
                params["time_vs_plain"] = round(ours / ours_plain, 3)
            out.append(
                {
                    "case": f"roundtrip/{size}/{variant}",
                    "impl": impl,
                    "median_ns": round(total[impl], 2),
                    "ratio_vs_ours": round(total[impl] / ours, 3),
                    "n": medians[enc, impl]["n"],
                    "params": params,
                }
            )
    return out


def main() -> None:
    opts = parse_options(__doc__ or "")
    rows: list[dict[str, Any]] = []
    for size, value in values(opts.seed).items():
        for variant in ("plain", "lz4", "encrypted"):
            for case in cases_for(size, value, variant, opts):
                case_rows = run_case(case, opts)
                with_load_average(case_rows)
                print_table(case_rows)
                rows += case_rows
        trips = round_trips(size, rows)
        print_table(trips)
        rows += trips
        sizes = size_rows(size, value)
        for row in sizes:
            print(
                f"  {row['case']:<14} {row['impl']:<32} {row['bytes']:>9} B  "
                f"ratio {row['compression_ratio']:.2f}"
            )
        rows += sizes
    path = write_results("codec_quick" if opts.quick else "codec", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
