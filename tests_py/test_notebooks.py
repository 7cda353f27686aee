"""The notebooks run top to bottom on their default trace (the sample shipped in the package,
so nothing outside the repository is needed) and on a generated timed trace (named by
STRATACACHE_TRACE), import only the public API, and are committed without outputs."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from stratacache.data import SAMPLE_TRACE

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["access_patterns.ipynb", "predictor.ipynb"]
PRIVATE = re.compile(r"\b_core\b|stratacache\._|from \._|from stratacache\.\w+\._")


def zipf_requests(n: int, n_keys: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    weights = [1.0 / (r + 1) ** 0.9 for r in range(n_keys)]
    return rng.choices(range(n_keys), weights=weights, k=n)


@pytest.fixture(scope="module")
def timed_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notebooks") / "timed.csv"
    rng = random.Random(12)
    t, rows = 0.0, ["time,key"]
    for k in zipf_requests(6_000, 800, seed=13):
        t += rng.expovariate(20.0)
        rows.append(f"{t:.3f},page-{k}")
    path.write_text("\n".join(rows) + "\n")
    return path


def execute(name: str, trace: Path | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Runs the notebook in a fresh kernel with STRATACACHE_TRACE set to `trace` (None: unset,
    the notebook's default); returns it executed."""
    if trace is None:
        monkeypatch.delenv("STRATACACHE_TRACE", raising=False)
    else:
        monkeypatch.setenv("STRATACACHE_TRACE", str(trace))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,  # per cell; a hang guard, not a timing assertion
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


def outputs(nb: Any) -> tuple[str, list[str]]:
    """(all printed text, every Markdown output) of an executed notebook."""
    text, markdown = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            if out["output_type"] == "stream":
                text.append(out["text"])
            elif "text/markdown" in out.get("data", {}):
                markdown.append(out["data"]["text/markdown"])
    return "".join(text), markdown


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs_and_public_only(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == []
        assert cell.execution_count is None
        assert not PRIVATE.search(cell.source), cell.source
    assert nb.metadata.kernelspec.name == "python3"


def test_access_patterns_on_the_default_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("access_patterns.ipynb", None, monkeypatch)
    text, markdown = outputs(nb)
    assert f"Trace({str(SAMPLE_TRACE)!r}, format='ints', requests=50000" in text
    assert "no timestamps: no TTL advice" in text
    assert "== Miss-ratio curves" in text
    assert len(markdown) == 1
    assert "Best policy per size" in markdown[0]


def test_access_patterns_on_a_timed_trace(
    timed_trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute("access_patterns.ipynb", timed_trace, monkeypatch)
    text, _ = outputs(nb)
    assert "format='csv'" in text
    assert "recommended TTL" in text


def test_predictor_on_the_default_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("predictor.ipynb", None, monkeypatch)
    text, markdown = outputs(nb)
    assert "not replaying" not in text
    assert "trace:" in text  # the sample trace was replayed next to the generated workloads
    summary = markdown[-1]  # the verdict tables, the benchmark's verdicts if present, summary
    for use in ("Refresh-ahead", "Warming", "TTL tuning"):
        assert use in summary
    assert re.search(r"on \d of 5 workloads", summary)
