"""A standalone redis-server on a free loopback port, with fault controls for fault tests."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._options import require_type
from ._process import (
    HOST,
    ManagedProcess,
    ServerError,
    Topology,
    cancel_on_exit,
    free_port,
    log_size,
    log_tail,
    make_temp_dir,
    on_exit,
    positive_seconds,
    remove_dir,
    require_executable,
    wait_for,
)

if TYPE_CHECKING:
    from typing_extensions import Self

_T = TypeVar("_T")

#: Attempts at a fresh port when another process takes the chosen one first.
PORT_ATTEMPTS = 5


def open_client(port: int, *, decode: bool = True, **kwargs: Any) -> Any:
    """A redis-py client for the harness's own commands: RESP2, no retries, short timeouts.

    redis-py is imported here, not at module import, so the harness loads without it.
    """
    import redis  # noqa: PLC0415 - optional at import time
    from redis.backoff import NoBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    options: dict[str, Any] = {"socket_timeout": 2.0, "socket_connect_timeout": 0.5, **kwargs}
    return redis.Redis(
        host=HOST,
        port=port,
        protocol=2,
        decode_responses=decode,
        retry=Retry(NoBackoff(), 0),
        **options,
    )


def run_command(client: Any, *args: object) -> Any:
    """One command on `client`; the reply is parsed by redis-py's callbacks, if any."""
    return client.execute_command(*args)


class RedisServer(Topology):
    """One redis-server on 127.0.0.1 with a temp dir of its own, no persistence.

    Use it as a context manager, or call start() and stop(). stop() always ends the process by
    PID (SIGTERM, then SIGKILL after a bounded wait) and removes the temp dir; a server still
    running at interpreter exit is stopped then.

    Args:
        replicaof: (host, port) of a primary to replicate, applied at every (re)start.
        config: extra redis.conf lines, e.g. ``["maxmemory 10mb"]``.
        startup_timeout: seconds to wait for the server to answer PING.
    """

    executable = "redis-server"
    package = "redis-server"  # the Debian package that installs `executable`
    kind = "redis"

    def __init__(
        self,
        *,
        replicaof: tuple[str, int] | None = None,
        config: Sequence[str] = (),
        startup_timeout: float = 10.0,
    ) -> None:
        if replicaof is not None:
            require_type(replicaof, tuple, "replicaof", "a (host, port) tuple or None")
        require_type(config, (list, tuple), "config", "a list of redis.conf lines")
        for line in config:
            require_type(line, str, "config lines", "str")
        self.replicaof = replicaof
        self._config = list(config)
        self._startup_timeout = positive_seconds(startup_timeout, "startup_timeout")
        self._dir: Path | None = None
        self._port: int | None = None
        self._process: ManagedProcess | None = None
        self._paused = False
        self._dir_token: int | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Starts the server on a free port and waits until it answers PING.

        Raises:
            ServerError: redis-server is not installed, exited, or did not answer in time
                (the message carries the tail of its log).
            RuntimeError: already started.
        """
        if self.started:
            msg = f"{self!r} is already started"
            raise RuntimeError(msg)
        require_executable(self.executable, self.package)
        self._dir = make_temp_dir(self.kind)
        self._dir_token = on_exit(self.stop)
        try:
            self._prepare(self._dir)
            for attempt in range(PORT_ATTEMPTS):
                self._port = self._pick_port()
                if self._launch(retry_on_collision=attempt + 1 < PORT_ATTEMPTS):
                    break
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the process (SIGTERM, SIGKILL after a bounded wait) and removes the temp dir.

        Safe to call twice, and after kill().
        """
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._dir_token is not None:
            cancel_on_exit(self._dir_token)
            self._dir_token = None
        if self._dir is not None:
            remove_dir(self._dir)
            self._dir = None
        self._port = None
        self._paused = False

    @property
    def started(self) -> bool:
        """True between start() and stop()."""
        return self._dir is not None

    # -- fault controls ------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as in a crash. restart() brings it back."""
        self._require_process().kill()
        self._paused = False

    def restart(self) -> None:
        """Stops the server if it runs, starts it again on the same port, waits until ready.

        Raises:
            ServerError: the port was taken meanwhile, or the server did not answer in time.
        """
        process = self._require_process()
        if process.alive():
            process.stop()
        self._paused = False
        self._launch(retry_on_collision=False)

    def pause(self) -> None:
        """SIGSTOP: the server hangs (connections stay open, nothing answers)."""
        self._require_process().send(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """SIGCONT after pause()."""
        self._require_process().send(signal.SIGCONT)
        self._paused = False

    def flushall(self) -> None:
        """Deletes every key on this server."""
        self.command("FLUSHALL")

    def command(self, *args: object, decode: bool = True) -> Any:
        """Runs one command on this server as its administrator and returns the reply."""
        client = self.client(decode=decode)
        try:
            return run_command(client, *args)
        finally:
            client.close()

    def client(self, *, decode: bool = True) -> Any:
        """A redis-py client authenticated as this server's administrator (caller closes it)."""
        return open_client(self.port, decode=decode, **self._client_options())

    # -- addresses and state -------------------------------------------------------------

    @property
    def host(self) -> str:
        """Always 127.0.0.1."""
        return HOST

    @property
    def port(self) -> int:
        """The port clients connect to."""
        return self._started(self._port)

    @property
    def address(self) -> tuple[str, int]:
        """(host, port)."""
        return (HOST, self.port)

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0"""
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int:
        """The server's process id (a new one after restart())."""
        return self._require_process().pid

    @property
    def alive(self) -> bool:
        """True while the process runs (paused counts as running)."""
        return self._process is not None and self._process.alive()

    @property
    def paused(self) -> bool:
        """True between pause() and resume()."""
        return self._paused

    @property
    def directory(self) -> Path:
        """The temp dir holding redis.conf, the log and any files the server writes."""
        return self._started(self._dir)

    @property
    def log_path(self) -> Path:
        """The server's log (stdout and stderr)."""
        return self.directory / "server.log"

    def __repr__(self) -> str:
        where = f"{HOST}:{self._port}" if self._port is not None else "not started"
        return f"<{type(self).__name__} {where}>"

    # -- hooks for the TLS server, sentinels and cluster nodes ---------------------------

    def _prepare(self, directory: Path) -> None:
        """Writes files the config refers to, before the first launch."""

    def _pick_port(self) -> int:
        return free_port()

    def _listen_config(self, port: int) -> list[str]:
        return [f"port {port}"]

    def _base_config(self) -> list[str]:
        return [
            'save ""',
            "appendonly no",
            "shutdown-on-sigterm nosave now",  # do not wait for lagging replicas
            "repl-diskless-sync-delay 0",  # a replica syncs at once, not 5 s later
        ]

    def _client_options(self) -> dict[str, Any]:
        return {}

    # -- internals -----------------------------------------------------------------------

    def _require_process(self) -> ManagedProcess:
        return self._started(self._process)

    def _started(self, value: _T | None) -> _T:
        if value is None:
            msg = f"{self!r} is not started"
            raise RuntimeError(msg)
        return value

    def _write_config(self) -> Path:
        lines = [
            f"bind {HOST}",
            *self._listen_config(self.port),
            f"dir {self.directory}",
            "daemonize no",
            'logfile ""',
            *self._base_config(),
        ]
        if self.replicaof is not None:
            lines.append(f"replicaof {self.replicaof[0]} {self.replicaof[1]}")
        lines += self._config
        path = self.directory / "redis.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _launch(self, *, retry_on_collision: bool) -> bool:
        """Spawns the process and waits for PING; False if the port was taken (and retrying)."""
        conf = self._write_config()
        log_start = log_size(self.log_path)
        self._process = ManagedProcess(
            [self.executable, str(conf)], cwd=self.directory, log_path=self.log_path
        )
        process = self._process
        try:
            wait_for(
                lambda: not process.alive() or self._answers_ping(),
                self._startup_timeout,
                lambda: self._failure(f"did not answer PING within {self._startup_timeout:g} s"),
            )
        except ServerError:
            process.stop()
            raise
        if process.alive():
            return True
        process.stop()  # reaps it and forgets its exit hook
        if retry_on_collision and "Address already in use" in log_tail(
            self.log_path, start=log_start
        ):
            return False
        raise ServerError(self._failure(f"exited with status {process.returncode()}"))

    def _answers_ping(self) -> bool:
        # A short timeout: whatever holds a taken port may accept and never answer.
        client = open_client(self.port, socket_timeout=0.5, **self._client_options())
        try:
            return bool(run_command(client, "PING"))
        except Exception:  # noqa: BLE001 - any failure means "not ready yet"
            return False
        finally:
            client.close()

    def _failure(self, what: str) -> str:
        return (
            f"{self.executable} on {HOST}:{self._port} {what}; "
            f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
        )
