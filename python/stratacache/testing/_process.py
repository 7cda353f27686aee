"""Child processes for test servers: loopback ports, temp dirs, bounded stops and exit hooks."""

from __future__ import annotations

import abc
import atexit
import contextlib
import itertools
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from numbers import Real
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Self

HOST = "127.0.0.1"

#: How long a stop waits after SIGTERM before it sends SIGKILL.
STOP_GRACE_SECONDS = 5.0

T = TypeVar("T")


class ServerError(RuntimeError):
    """A test server could not be started, did not answer in time, or is not installed."""


class Topology(abc.ABC):
    """start()/stop() and the context-manager protocol every server and group shares."""

    @abc.abstractmethod
    def start(self) -> Self:
        """Starts every process and waits until they serve."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stops every process by PID and removes the temp dirs (safe to repeat)."""

    @property
    @abc.abstractmethod
    def started(self) -> bool:
        """True between start() and stop()."""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The URL a stratacache Redis tier takes."""

    def __enter__(self) -> Self:
        if not self.started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def positive_seconds(value: object, name: str) -> float:
    """Returns `value` as float seconds.

    Raises:
        TypeError: not a number (bool is refused too).
        ValueError: zero, negative or NaN.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        msg = f"{name} must be a number of seconds, not {type(value).__name__}"
        raise TypeError(msg)
    seconds = float(value)
    if not seconds > 0:
        msg = f"{name} must be > 0 seconds, got {value!r}"
        raise ValueError(msg)
    return seconds


def require_executable(name: str, package: str) -> str:
    """Returns the path of `name` on PATH.

    Raises:
        ServerError: `name` is not installed.
    """
    path = shutil.which(name)
    if path is None:
        msg = (
            f"{name} is not on PATH: install the Debian package {package} "
            "(scripts/bootstrap.sh does); tests that need Redis cannot run without it"
        )
        raise ServerError(msg)
    return path


def free_port(accept: Callable[[int], bool] = lambda _port: True, attempts: int = 50) -> int:
    """A loopback port that was free a moment ago and passes `accept`.

    The kernel picks it (bind to port 0); the caller must still handle the race in which
    another process takes it before the server binds.
    """
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if accept(port):
            return port
    msg = f"no acceptable free loopback port after {attempts} attempts"
    raise ServerError(msg)


def port_is_free(port: int) -> bool:
    """True if a listening socket could bind 127.0.0.1:`port` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def make_temp_dir(kind: str) -> Path:
    """A fresh private directory for one server's config, log and files."""
    return Path(tempfile.mkdtemp(prefix=f"stratacache-{kind}-"))


def log_size(path: Path) -> int:
    """The size of a log in bytes (0 if it does not exist yet)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def log_tail(path: Path, lines: int = 20, start: int = 0) -> str:
    """The last `lines` lines of a log file from byte `start`, or a note that there is none."""
    try:
        with path.open("rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def wait_for(check: Callable[[], T | None], timeout: float, failure: Callable[[], str]) -> T:
    """Polls `check` until it returns a truthy value, for at most `timeout` seconds.

    Raises:
        ServerError: with the message `failure()` builds, if time runs out.
    """
    deadline = time.monotonic() + timeout
    interval = 0.01
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise ServerError(failure())
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)


# Every live process and temp dir is stopped or removed when the interpreter exits, even
# when a test run is interrupted or a fixture's teardown never ran.
_hooks_lock = threading.Lock()
_hooks: dict[int, Callable[[], None]] = {}
_hook_ids = itertools.count()


def on_exit(hook: Callable[[], None]) -> int:
    """Runs `hook` at interpreter exit unless cancelled; returns the token to cancel it."""
    token = next(_hook_ids)
    with _hooks_lock:
        _hooks[token] = hook
    return token


def cancel_on_exit(token: int) -> None:
    """Forgets an exit hook (no error if it already ran or was cancelled)."""
    with _hooks_lock:
        _hooks.pop(token, None)


def _run_exit_hooks() -> None:
    with _hooks_lock:
        hooks = [_hooks.pop(token) for token in sorted(_hooks, reverse=True)]
    for hook in hooks:
        with contextlib.suppress(Exception):  # one failed cleanup must not stop the rest
            hook()


atexit.register(_run_exit_hooks)


def remove_dir(path: Path) -> None:
    """Removes a temp dir and everything in it, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)


def _death_signal_prefix() -> list[str]:
    # Asks the kernel to SIGKILL the child if this process dies without running its exit
    # hooks (SIGKILL, OOM). The signal follows the thread that forked, so only the main
    # thread, which lives as long as the process, may use it.
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return []
    return [setpriv, "--pdeathsig", "KILL", "--"]


class ManagedProcess:
    """One child process, stopped by PID with SIGTERM and then SIGKILL after a bounded wait.

    The process is registered for stopping at interpreter exit until it is stopped or killed.
    """

    def __init__(self, argv: Sequence[str], cwd: Path, log_path: Path) -> None:
        with log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                [*_death_signal_prefix(), *argv],
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._token = on_exit(self.stop)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._popen.pid

    def alive(self) -> bool:
        """True while the child has not exited."""
        return self._popen.poll() is None

    def returncode(self) -> int | None:
        """The exit status (negative: killed by that signal), or None while it runs."""
        return self._popen.poll()

    def send(self, sig: signal.Signals) -> None:
        """Sends `sig` if the child is still running (never to a reaped, reusable PID)."""
        if self._popen.poll() is None:
            self._popen.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, then reap the child."""
        cancel_on_exit(self._token)
        self.send(signal.SIGKILL)
        self._popen.wait()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM (and SIGCONT, in case it is paused); SIGKILL if still alive after `grace` s."""
        cancel_on_exit(self._token)
        self.send(signal.SIGTERM)
        self.send(signal.SIGCONT)
        try:
            self._popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
