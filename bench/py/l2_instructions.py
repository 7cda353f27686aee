"""Client instructions per sync L2 get / set, ours against raw redis-py, by callgrind.

    python bench/py/l2_instructions.py [--out FILE] [--label X] [--python PY] [--only TEXT]

Each case runs twice under ``valgrind --tool=callgrind`` (this file with ``--case``), doing
N1 and then N2 operations on one key after the same setup, so (Ir(N2) - Ir(N1)) / (N2 - N1)
is the client-side cost of one operation alone (the server runs outside valgrind). Cases:
``raw-get`` / ``raw-set`` (redis-py, hiredis parser, pre-serialized bytes, plain pool),
``ours-get`` / ``ours-set`` (``Cache(l1=False)``, 100-byte dict, coherence on) and
``ours-set-quiet`` (coherence=None), ``ours-set-unheard`` (coherence on, its subscriber thread
stopped: the publish without its echo); ``raw-set-publish`` is redis-py's SET + PUBLISH pipeline.
The asyncio cases ``ours-aget-c100`` / ``raw-aget-c100`` / ``bare-aget-c100`` are gets by 100
tasks on one loop (``AsyncCache(l1=False)``, redis.asyncio + msgpack, bench_l2's bare protocol),
run by ``async_get_profile.py --case``.
``--python`` runs the cases with another interpreter (another checkout's install, for a
before/after pair on one server). Instruction counts do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = (
    "raw-get",
    "ours-get",
    "raw-set",
    "ours-set",
    "ours-set-quiet",
    "ours-set-unheard",
    "raw-set-publish",
    "ours-aget-c100",
    "raw-aget-c100",
    "bare-aget-c100",
)
N1, N2 = 1_000, 6_000
ASYNC_PROFILE = Path(__file__).with_name("async_get_profile.py")
VALUE = {"data": "x" * 100}


def run_case(case: str, n: int, port: int) -> None:
    """The body run under valgrind: setup, then `n` operations of `case` on one key."""
    import msgpack  # noqa: PLC0415
    import redis  # noqa: PLC0415

    import stratacache  # noqa: PLC0415

    if case.startswith("raw"):
        client = redis.Redis(host="127.0.0.1", port=port, max_connections=64)
        blob = msgpack.packb(VALUE)
        client.set("raw:k", blob)
        if case == "raw-get":
            for _ in range(n):
                client.get("raw:k")
        elif case == "raw-set":
            for _ in range(n):
                client.set("raw:k", blob)
        else:  # SET + PUBLISH in one round trip, as redis-py users write it
            for _ in range(n):
                pipe = client.pipeline(transaction=False)
                pipe.set("raw:k", blob)
                pipe.publish("chan", b"k")
                pipe.execute()
        client.close()
        return
    coherence = None if case == "ours-set-quiet" else "pubsub"
    opts = stratacache.RedisOptions(max_connections=64, key_prefix="ipo:", coherence=coherence)
    cache = stratacache.Cache(redis=f"redis://127.0.0.1:{port}/0", l1=False, redis_options=opts)
    if case == "ours-set-unheard":
        cache._subscriber.stop()  # the PUBLISH still goes out; nobody here reads it back
    cache.set("k", VALUE)
    if cache.get("k") != VALUE:
        msg = "wrong value"
        raise RuntimeError(msg)
    if case == "ours-get":
        for _ in range(n):
            cache.get("k")
    else:
        for _ in range(n):
            cache.set("k", VALUE)
    cache.close()


def total_ir(python: str, case: str, n: int, port: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python]
        if "-aget-c" in case:  # "ours-aget-c100": async_get_profile's impl and task count
            impl, tasks = case.split("-aget-c")
            cmd += [str(ASYNC_PROFILE), "--case", impl, "--tasks", tasks]
        else:
            cmd += [__file__, "--case", case]
        cmd += ["--n", str(n), "--port", str(port)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            msg = f"{case} (n={n}) failed under valgrind: {done.stderr[-2000:]}"
            raise RuntimeError(msg)
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    msg = f"no totals in callgrind output for {case}"
    raise RuntimeError(msg)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", default="", help="only cases containing this text")
    parser.add_argument("--out", help="JSON file to write the figures to")
    parser.add_argument("--label", default="", help="what was measured (branch, commit)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the cases")
    args = parser.parse_args()
    if args.case:
        run_case(args.case, args.n, args.port)
        return 0
    from stratacache.testing.redis_servers import RedisServer  # noqa: PLC0415

    server = RedisServer().start()
    rows = []
    try:
        for case in CASES:
            if args.only not in case:
                continue
            low, high = (total_ir(args.python, case, k, server.port) for k in (N1, N2))
            per_op = (high - low) / (N2 - N1)
            rows.append({"case": case, "instructions_per_op": round(per_op)})
            print(f"{case:16s} {per_op:10,.0f}", flush=True)
    finally:
        server.stop()
    if args.out:
        params = {
            "method": f"callgrind, (Ir at {N2} - Ir at {N1} ops) / {N2 - N1}, one key",
            "label": args.label,
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        }
        Path(args.out).write_text(json.dumps({"params": params, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
