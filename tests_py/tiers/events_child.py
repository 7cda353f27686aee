"""A child process for the cross-process event tests and benchmark (run as a script, never
imported by pytest). Modes:

  emit URL NAME COUNT               emits NAME COUNT times ({"i": i, "t": monotonic_ns}), then
      prints JSON {"stats": ...} once published
  invalidate URL ID                 registers invalidate_on("product.updated") (keys
      product:<id>, tags product-<id>) and emits it with {"id": ID}
  listen URL COUNT SECONDS          prints "ready", then JSON lines of the first COUNT app
      events received from other processes (with their latency in ns), within SECONDS
"""

# ruff: noqa: T201 - a script: its results go to stdout

from __future__ import annotations

import json
import sys
import threading
import time

import stratacache


def emit(url: str, name: str, count: int) -> None:
    with stratacache.Cache(redis=url) as cache:
        for i in range(count):
            cache.events.emit(name, {"i": i, "t": time.monotonic_ns()})
        cache.events.flush()
        print(json.dumps({"stats": cache.stats().events.__dict__}), flush=True)


def invalidate(url: str, ident: str) -> None:
    with stratacache.Cache(redis=url) as cache:
        cache.invalidate_on(
            "product.updated",
            keys=lambda p: [f"product:{p['id']}"],
            tags=lambda p: [f"product-{p['id']}"],
        )
        cache.events.emit("product.updated", {"id": int(ident)})
        cache.events.flush()
        print(json.dumps({"done": True}), flush=True)


def listen(url: str, count: int, seconds: float) -> None:
    done = threading.Event()
    lines: list[str] = []

    def handler(event: stratacache.events.Event) -> None:
        if event.kind != "app" or event.local:
            return
        latency = time.monotonic_ns() - event.payload["t"]
        lines.append(json.dumps({"name": event.name, "i": event.payload["i"], "ns": latency}))
        if len(lines) >= count:
            done.set()

    with stratacache.Cache(redis=url) as cache:
        cache.events.subscribe(handler, kinds=["app"], queue_size=100_000)
        print("ready", flush=True)
        done.wait(seconds)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "emit":
        emit(args[0], args[1], int(args[2]))
    elif mode == "invalidate":
        invalidate(args[0], args[1])
    else:
        listen(args[0], int(args[1]), float(args[2]))
