"""A redis-server that speaks only TLS, with a throwaway CA and ACL users reader and writer."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._options import require_type
from ._process import HOST, ServerError, require_executable
from ._standalone import RedisServer

#: ACL rules per user. The default user is the harness's administrator (password-protected).
#: `writer` gets what a cache tier needs (strings, hashes, streams, scripts, pub/sub, SCAN,
#: CLIENT TRACKING, WAIT) plus ROLE, to check a pooled connection after a failover; it is
#: refused the @dangerous commands: FLUSHALL, KEYS, CONFIG, DEBUG, SHUTDOWN, MIGRATE...
ACL_RULES: dict[str, str] = {
    "default": "~* &* +@all",
    "reader": "~* &* +@read +@connection -@dangerous +ping",
    "writer": "~* &* +@all -@dangerous +role",
}

_CURVE = "ec_paramgen_curve:prime256v1"  # EC keys: generated in milliseconds, unlike RSA

_LEAF_EXTENSIONS = """\
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage={usage}
subjectAltName={names}
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
"""


def _openssl(args: Sequence[str], cwd: Path) -> None:
    openssl = require_executable("openssl", "openssl")
    result = subprocess.run(
        [openssl, *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        msg = f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}"
        raise ServerError(msg)


#: Names the server certificate is issued for by default: what its URLs connect to.
SERVER_NAMES = ("IP:127.0.0.1", "DNS:localhost")


def make_certificates(directory: Path, server_names: Sequence[str] = SERVER_NAMES) -> None:
    """Writes ca.crt/ca.key, server.crt/server.key and client.crt/client.key into `directory`.

    The CA carries the extensions that strict verifiers (Python 3.13's default
    VERIFY_X509_STRICT) require; the server certificate is valid for `server_names`
    (subjectAltName entries such as ``IP:127.0.0.1`` or ``DNS:localhost``).
    """
    days = ["-days", "2"]
    _openssl(
        [
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", _CURVE, "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", *days, "-subj", "/CN=stratacache test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        directory,
    )  # fmt: skip
    for name, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        names = ",".join(server_names) if name == "server" else "DNS:client"
        (directory / f"{name}.ext").write_text(_LEAF_EXTENSIONS.format(usage=usage, names=names))
        _openssl(
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", _CURVE, "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
            ],
            directory,
        )  # fmt: skip
        _openssl(
            [
                "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-set_serial", str(secrets.randbits(63)), "-out", f"{name}.crt", *days,
                "-extfile", f"{name}.ext",
            ],
            directory,
        )  # fmt: skip


class RedisTLSServer(RedisServer):
    """A redis-server reachable only over TLS, with ACL users ``reader`` and ``writer``.

    The certificates are made at start() with the openssl CLI in the server's temp dir.
    `url` logs in as ``writer``; `url_for(user)` gives any user's URL. Connect with the CA,
    e.g. ``redis.Redis.from_url(server.url, ssl_ca_certs=server.ca_file)``.

    Args:
        client_auth: require a client certificate (`client_cert_file`, `client_key_file`).
        server_names: subjectAltName entries of the server certificate; the default names
            127.0.0.1 and localhost, so clients can verify the host name. Other names (say
            ``("DNS:wrong.example",)``) make a server whose certificate a client must refuse.
        config: extra redis.conf lines.
        startup_timeout: seconds to wait for the server to answer PING.
    """

    kind = "redis-tls"

    def __init__(
        self,
        *,
        client_auth: bool = False,
        server_names: Sequence[str] = SERVER_NAMES,
        config: Sequence[str] = (),
        startup_timeout: float = 10.0,
    ) -> None:
        super().__init__(config=config, startup_timeout=startup_timeout)
        require_type(server_names, (list, tuple), "server_names", "a list of subjectAltNames")
        for entry in server_names:
            require_type(entry, str, "server_names entries", "str")
        if not server_names:
            msg = "server_names must name at least one host (e.g. 'IP:127.0.0.1')"
            raise ValueError(msg)
        self._server_names = tuple(server_names)
        self._client_auth = bool(client_auth)
        self._passwords = {user: secrets.token_hex(12) for user in ACL_RULES}

    @property
    def users(self) -> tuple[str, ...]:
        """The ACL users: ``default`` (administrator), ``reader``, ``writer``."""
        return tuple(self._passwords)

    def password_for(self, user: str) -> str:
        """The password of `user`.

        Raises:
            KeyError: not one of `users`.
        """
        if user not in self._passwords:
            msg = f"unknown user {user!r}; users are {', '.join(self._passwords)}"
            raise KeyError(msg)
        return self._passwords[user]

    def url_for(self, user: str) -> str:
        """rediss://USER:PASSWORD@127.0.0.1:PORT/0

        Raises:
            KeyError: not one of `users`.
        """
        return f"rediss://{user}:{self.password_for(user)}@{HOST}:{self.port}/0"

    @property
    def url(self) -> str:
        """The ``writer`` user's URL."""
        return self.url_for("writer")

    @property
    def ca_file(self) -> Path:
        """The CA certificate that signed the server's (pass as ``ssl_ca_certs``)."""
        return self.directory / "ca.crt"

    @property
    def client_cert_file(self) -> Path:
        """A client certificate signed by the same CA (``ssl_certfile``)."""
        return self.directory / "client.crt"

    @property
    def client_key_file(self) -> Path:
        """The client certificate's key (``ssl_keyfile``)."""
        return self.directory / "client.key"

    def ssl_options(self) -> dict[str, Any]:
        """redis-py keyword arguments for TLS: the CA, and the client certificate if required."""
        options: dict[str, Any] = {"ssl_ca_certs": str(self.ca_file)}
        if self._client_auth:
            options["ssl_certfile"] = str(self.client_cert_file)
            options["ssl_keyfile"] = str(self.client_key_file)
        return options

    def _prepare(self, directory: Path) -> None:
        make_certificates(directory, self._server_names)

    def _listen_config(self, port: int) -> list[str]:
        d = self.directory
        return [
            "port 0",
            f"tls-port {port}",
            f"tls-cert-file {d / 'server.crt'}",
            f"tls-key-file {d / 'server.key'}",
            f"tls-ca-cert-file {d / 'ca.crt'}",
            f"tls-auth-clients {'yes' if self._client_auth else 'no'}",
        ]

    def _base_config(self) -> list[str]:
        users = [
            f"user {name} on >{self._passwords[name]} {rules}" for name, rules in ACL_RULES.items()
        ]
        return [*super()._base_config(), *users]

    def _client_options(self) -> dict[str, Any]:
        # The harness reaches its server at 127.0.0.1 even when the certificate names others.
        check = f"IP:{HOST}" in self._server_names
        options = {"ssl": True, "password": self._passwords["default"], **self.ssl_options()}
        return {**options, "ssl_check_hostname": check}
