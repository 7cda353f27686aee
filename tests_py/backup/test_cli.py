"""`stratacache backup` / `stratacache restore`, run as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import stratacache

from .conftest import keys_of, raw


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stratacache", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_backup_and_restore_commands(redis_clean_url: str, tmp_path: Path) -> None:
    with stratacache.Cache(redis=redis_clean_url, default_ttl=60) as cache:
        cache.set_many({f"k{i}": i for i in range(1000)})
    path = tmp_path / "cli.scb"
    done = _run("backup", "--redis", redis_clean_url, str(path))
    assert done.returncode == 0, done.stderr
    assert "1000 values" in done.stdout
    raw(redis_clean_url).flushall()

    done = _run("restore", "--redis", redis_clean_url, str(path))
    assert done.returncode == 0, done.stderr
    with stratacache.Cache(redis=redis_clean_url) as cache:
        assert cache.get_many([f"k{i}" for i in range(1000)]) == {f"k{i}": i for i in range(1000)}


def test_encrypted_and_damaged(redis_clean_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key = os.urandom(32)
    key_file.write_text(key.hex())
    codec = stratacache.Codec(encryption_keys=key)
    with stratacache.Cache(redis=redis_clean_url, codec=codec, default_ttl=60) as cache:
        cache.set("secret", "s" * 200)
    path = tmp_path / "enc.scb"
    done = _run(
        "backup", "--redis", redis_clean_url, "--encryption-key-file", str(key_file), str(path)
    )
    assert done.returncode == 0, done.stderr
    raw(redis_clean_url).flushall()

    done = _run("restore", "--redis", redis_clean_url, str(path))  # no key
    assert done.returncode == 1
    assert "encrypted" in done.stderr
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    (tmp_path / "bad.scb").write_bytes(bytes(data))
    done = _run(
        "restore",
        "--redis",
        redis_clean_url,
        "--encryption-key-file",
        str(key_file),
        str(tmp_path / "bad.scb"),
    )
    assert done.returncode == 1
    assert "nothing was restored" in done.stderr
    assert keys_of(redis_clean_url) == set()

    done = _run(
        "restore", "--redis", redis_clean_url, "--encryption-key-file", str(key_file), str(path)
    )
    assert done.returncode == 0, done.stderr
    with stratacache.Cache(redis=redis_clean_url, codec=codec) as cache:
        assert cache.get("secret") == "s" * 200
