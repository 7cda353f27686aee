"""`stratacache analyze`: every input format end to end (files, sections, sane numbers),
argument errors (exit 2) and unreadable traces (exit 1, no traceback)."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache.cli import main
from stratacache.data import SAMPLE_TRACE

SECTIONS = (
    "== Trace:",
    "== Popularity skew ==",
    "== Reuse distances",
    "== Miss-ratio curves",
    "== Cache size for a target hit ratio",
    "== TTL advice",
)
PLOTS = ("popularity.png", "reuse_distance.png", "mrc.png")


def zipf_keys(n: int, n_keys: int, seed: int) -> list[int]:
    """`n` requests over `n_keys` keys, popularity 1 / rank."""
    rng = random.Random(seed)
    weights = [1.0 / (r + 1) for r in range(n_keys)]
    return rng.choices(range(n_keys), weights=weights, k=n)


def arrival_times(n: int, seed: int) -> list[float]:
    """Poisson arrivals at 50 requests per second."""
    rng = random.Random(seed)
    t, out = 0.0, []
    for _ in range(n):
        t += rng.expovariate(50.0)
        out.append(t)
    return out


@pytest.fixture(scope="module")
def keys() -> list[int]:
    return zipf_keys(8_000, 1_000, seed=3)


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory, keys: list[int]) -> dict[str, Path]:
    """The same key sequence in every format the CLI reads."""
    d = tmp_path_factory.mktemp("traces")
    ints = "".join(f"{k * 7 - 3000}\n" for k in keys)
    (d / "ints.txt").write_text(ints)
    with gzip.open(d / "ints.txt.gz", "wt") as f:
        f.write(ints)
    (d / "keys.txt").write_text("".join(f"user:{k}/profile\r\n" for k in keys))
    times = arrival_times(len(keys), seed=4)
    rows = "".join(f"{t:.4f},item {k}\n" for t, k in zip(times, keys, strict=True))
    (d / "timed.csv").write_text("time,key\n" + rows)
    start = datetime(2026, 1, 2, tzinfo=timezone.utc)
    iso = "".join(
        f'"k,{k}",{(start + timedelta(seconds=t)).isoformat().replace("+00:00", "Z")}\n'
        for t, k in zip(times, keys, strict=True)
    )
    with gzip.open(d / "iso.csv.gz", "wt") as f:
        f.write("Key,Timestamp\n" + iso)
    return {p.name: p for p in d.iterdir()}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def analyze(
    trace: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> dict[str, Any]:
    code, stdout, err = run(["analyze", str(trace), "--out", str(out), *extra], capsys)
    assert code == 0, err
    text = (out / "report.txt").read_text()
    assert text in stdout
    for section in SECTIONS:
        assert section in text
    for plot in PLOTS:
        assert (out / plot).read_bytes()[:4] == b"\x89PNG"
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def check_sane(data: dict[str, Any], requests: int, distinct: int) -> None:
    trace = data["trace"]
    assert (trace["requests"], trace["distinct_keys"]) == (requests, distinct)
    curves = data["miss_ratio_curves"]
    policies = curves["policies"]
    assert list(policies)[-1] == "opt"
    for name, ratios in policies.items():
        assert len(ratios) == len(curves["sizes"])
        assert all(0.0 <= r <= 1.0 for r in ratios)
        # LRU and OPT are stack algorithms: never worse with more room. The others may dip
        # by a hair (FIFO-like queues are not stack algorithms), never by much.
        slack = 0.0 if name in ("lru", "opt") else 0.01
        assert all(b <= a + slack for a, b in itertools.pairwise(ratios)), name
        assert ratios[-1] == pytest.approx(distinct / requests)  # every key fits: cold only
        assert all(o <= r for o, r in zip(policies["opt"], ratios, strict=True)), name
    reuse = data["reuse_distance"]
    assert sum(reuse["fractions"]) + reuse["cold_fraction"] == pytest.approx(1.0)
    for sizes in data["size_for_hit_ratio"].values():
        reached = [s for s in sizes.values() if s is not None]
        assert all(sizes["opt"] <= s for s in reached)
    alpha = data["popularity"]["zipf_alpha"]
    assert 0.7 < alpha < 1.3  # generated with popularity 1 / rank


@pytest.mark.parametrize("name", ["ints.txt", "ints.txt.gz", "keys.txt"])
def test_untimed_formats(
    traces: dict[str, Path],
    keys: list[int],
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = analyze(traces[name], tmp_path, capsys)
    assert data["trace"]["format"] == ("keys" if name == "keys.txt" else "ints")
    check_sane(data, len(keys), len(set(keys)))
    assert data["ttl"] is None
    assert data["ttl_note"] == "no timestamps: no TTL advice"
    assert "no timestamps: no TTL advice" in (tmp_path / "report.txt").read_text()
    assert not (tmp_path / "ttl.png").exists()


def test_ints_trace_matches_simulate(
    traces: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = analyze(traces["ints.txt.gz"], tmp_path, capsys, "--policies", "lru,s3fifo")
    curves = data["miss_ratio_curves"]
    assert list(curves["policies"]) == ["lru", "s3fifo", "opt"]
    for name, ratios in curves["policies"].items():
        for size, miss in zip(curves["sizes"], ratios, strict=True):
            hit = stratacache.simulate(traces["ints.txt.gz"], name, size).hit_ratio
            assert miss == pytest.approx(1.0 - hit)


def test_renamed_keys_keep_the_hit_ratios(
    traces: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ints = analyze(traces["ints.txt"], tmp_path / "ints", capsys, "--policies", "lru")
    text = analyze(traces["keys.txt"], tmp_path / "keys", capsys, "--policies", "lru")
    assert text["miss_ratio_curves"] == ints["miss_ratio_curves"]
    assert text["reuse_distance"] == ints["reuse_distance"]


@pytest.mark.parametrize("name", ["timed.csv", "iso.csv.gz"])
def test_timed_csv_gives_ttl_advice(
    traces: dict[str, Path],
    keys: list[int],
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = analyze(traces[name], tmp_path, capsys, "--target-hit-ratio", "0.3", "0.6")
    assert data["trace"]["format"] == "csv"
    check_sane(data, len(keys), len(set(keys)))
    assert list(data["size_for_hit_ratio"]) == ["0.3", "0.6"]
    assert data["trace"]["duration_seconds"] > 0
    ttl = data["ttl"]
    hits = ttl["hit_ratios"]
    assert ttl["ttls"] == sorted(ttl["ttls"])
    assert all(b >= a for a, b in itertools.pairwise(hits))
    assert hits[-1] == pytest.approx(ttl["no_expiry_hit_ratio"])  # the last TTL outlives gaps
    assert ttl["gap_p50"] <= ttl["gap_p90"] <= ttl["gap_p99"]
    i = ttl["ttls"].index(ttl["recommended"])
    assert hits[i] >= ttl["keep"] * ttl["no_expiry_hit_ratio"] > hits[i - 1]
    assert (tmp_path / "ttl.png").read_bytes()[:4] == b"\x89PNG"
    assert "recommended TTL" in (tmp_path / "report.txt").read_text()


def test_unreachable_target_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "half.txt"
    trace.write_text("".join(f"{k}\n" for k in [1, 2, 3, 4, 1, 2, 3, 4]))  # ceiling 50%
    data = analyze(trace, tmp_path / "out", capsys, "--target-hit-ratio", "0.4", "0.9")
    assert data["size_for_hit_ratio"]["0.9"] == dict.fromkeys([*stratacache.POLICIES, "opt"])
    assert data["size_for_hit_ratio"]["0.4"]["opt"] is not None
    assert "unreachable" in (tmp_path / "out" / "report.txt").read_text()


def test_quick_samples_and_shrinks_the_grid(
    traces: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = analyze(traces["ints.txt"], tmp_path / "full", capsys, "--policies", "lru")
    quick = analyze(
        traces["ints.txt"], tmp_path / "quick", capsys, "--quick", "--sample-rate", "0.5"
    )
    assert len(quick["miss_ratio_curves"]["sizes"]) < len(full["miss_ratio_curves"]["sizes"])
    assert (quick["sample_rate"], full["sample_rate"]) == (0.5, 1.0)
    assert "0.5 of the keys" in (tmp_path / "quick" / "report.txt").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "required: COMMAND"),
        (["analyze", "t.txt"], "required: --out"),
        (["analyze", "t.txt", "--out", "o", "--sample-rate", "0"], "sample_rate"),
        (["analyze", "t.txt", "--out", "o", "--sample-rate", "1.5"], "sample_rate"),
        (["analyze", "t.txt", "--out", "o", "--sample-rate", "half"], "not a number"),
        (["analyze", "t.txt", "--out", "o", "--policies", "lru,fifo"], "unknown policy 'fifo'"),
        (["analyze", "t.txt", "--out", "o", "--policies", ","], "at least one"),
        (["analyze", "t.txt", "--out", "o", "--target-hit-ratio", "80"], "80% is 0.8"),
        (["analyze", "t.txt", "--out", "o", "--target-hit-ratio", "0"], "(0, 1)"),
        (["analyze", "t.txt", "--out", "o", "--target-hit-ratio"], "expected at least one"),
        (["analyze", "t.txt", "--out", "o", "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_out_that_is_a_file_exits_2(
    traces: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taken"
    out.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(traces["ints.txt"]), "--out", str(out)])
    assert exit_info.value.code == 2
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        (b"", "holds no requests"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00truncated", "damaged gzip data"),
        (b"1\n2\x00\x01\x02\n", "binary data"),
        (b"1\n\xff\xfe\n", "not UTF-8"),
        (b"time,key\n1.0,a\n0.5,b\n", ":3: time goes back"),
        (b"time,key\n1.0,a\nnoon,b\n", ":3: time 'noon' is neither seconds"),
        (b"time,key\n1.0,a\n2.0\n", ":3: expected a time and a key"),
    ],
)
def test_unreadable_trace_exits_1(
    content: bytes | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace"
    if content is not None:
        trace.write_bytes(content)
    code, out, err = run(["analyze", str(trace), "--out", str(tmp_path / "out")], capsys)
    assert code == 1
    assert message in err
    assert err.startswith("stratacache analyze: error:")
    assert "Traceback" not in err
    assert out == ""


def test_python_dash_m_and_help(traces: dict[str, Path], tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "stratacache", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    top = cli("--help")
    assert top.returncode == 0
    assert "analyze" in top.stdout
    sub = cli("analyze", "--help")
    assert sub.returncode == 0
    assert "--target-hit-ratio" in sub.stdout
    assert "CSV with a header" in sub.stdout
    done = cli("analyze", str(traces["ints.txt.gz"]), "--out", str(tmp_path), "--quick")
    assert done.returncode == 0, done.stderr
    assert "== Miss-ratio curves" in done.stdout
    assert (tmp_path / "report.json").exists()
    missing = cli("analyze", str(tmp_path / "nope.txt"), "--out", str(tmp_path))
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr


def test_the_sample_trace_is_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["analyze", "--out", str(tmp_path), "--quick"], capsys)
    assert code == 0
    assert f"== Trace: {SAMPLE_TRACE} ==" in out
    assert "requests           50,000" in out
    assert (tmp_path / "report.json").exists()


def test_version() -> None:
    for cmd in (
        [sys.executable, "-m", "stratacache"],
        [str(Path(sys.executable).parent / "stratacache")],
    ):
        if not Path(cmd[0]).exists():  # the console script of an install into this interpreter
            continue
        done = subprocess.run(
            [*cmd, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"stratacache {stratacache.__version__}\n"


def hidden(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs the CLI with `module` unimportable, as if its extra were not installed."""
    code = f"import sys; sys.modules[{module!r}] = None; from stratacache.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def test_without_tqdm_the_error_names_the_pip_line(tmp_path: Path) -> None:
    done = hidden("tqdm", "analyze", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        "stratacache analyze: error: stratacache analyze needs tqdm, which is not installed: "
        "pip install 'stratacache[cli]'\n"
    )
    assert not (tmp_path / "out").exists()


def test_without_matplotlib_the_report_is_written_and_the_plots_named(
    traces: dict[str, Path], tmp_path: Path
) -> None:
    done = hidden("matplotlib", "analyze", str(traces["ints.txt"]), "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no plots: write_plots() needs matplotlib, which is not installed: " in done.stdout
    assert "pip install 'stratacache[cli]'" in done.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.txt"]
