"""Real HTTP servers on loopback for tests and the web demo: uvicorn (ASGI) and wsgiref (WSGI).

Each runs in a daemon thread of the calling process on a port the kernel picks (the socket is
bound before the server starts, so there is no race for it), and is stopped on exit::

    with http_servers.asgi_server(app) as base_url:
        httpx.get(base_url + "/items/1")

uvicorn comes with the `demo` extra; wsgiref is in the standard library.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .._extras import require

__all__ = ["asgi_server", "wsgi_server"]

HOST = "127.0.0.1"


@contextlib.contextmanager
def asgi_server(
    app: Any,
    *,
    on_shutdown: Callable[[], Awaitable[object]] | None = None,
    start_timeout: float = 10.0,
) -> Iterator[str]:
    """Serves the ASGI `app` with uvicorn on 127.0.0.1; yields its base URL.

    `on_shutdown` is awaited in the server's event loop as it stops (e.g. an AsyncCache's
    close, whose Redis connections belong to that loop).

    Raises:
        MissingExtraError: uvicorn (the `fastapi` extra) is not installed.
        RuntimeError: the server did not start within `start_timeout` seconds.
    """
    uvicorn = require("uvicorn", "demo", "stratacache.testing.http_servers")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvicorn sets no TCP_NODELAY on a socket it is handed, and Nagle's algorithm then holds
    # each response's body behind its headers for a delayed ACK; accepted sockets inherit it.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    if on_shutdown is not None:
        app = _with_shutdown(app, on_shutdown)
    lifespan = "off" if on_shutdown is None else "on"
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = f"uvicorn did not start on {HOST}:{port} within {start_timeout} s"
                raise RuntimeError(msg)
            time.sleep(0.01)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=start_timeout)
        sock.close()


def _with_shutdown(app: Any, on_shutdown: Callable[[], Awaitable[object]]) -> Any:
    """`app` answering the ASGI lifespan protocol itself, awaiting `on_shutdown` at its end."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def wsgi_server(app: Any, *, threaded: bool = False) -> Iterator[str]:
    """Serves the WSGI `app` with wsgiref's simple server on 127.0.0.1; yields its base URL.

    `threaded` serves each request in its own thread (as threaded production servers do);
    by default requests are served one at a time.
    """
    server_class = _ThreadingWSGIServer if threaded else WSGIServer
    server = make_server(HOST, 0, app, server_class=server_class, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10.0)
