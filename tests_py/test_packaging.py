"""Packaging: the core has no dependencies, a missing extra names its pip line, the metadata
agrees with itself, the sample trace is what its script generates, the sdist holds the sources,
and every README example that needs no server runs from the repository as it is."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import stratacache
from stratacache import analysis
from stratacache._extras import MissingExtraError, available, progress_bar, require
from stratacache.data import SAMPLE_TRACE

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = ("redis", "hiredis", "tqdm", "matplotlib", "numpy", "IPython")


def python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", code]
    environ = {**os.environ, **env}
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=environ
    )


def test_import_loads_no_optional_dependency(tmp_path: Path) -> None:
    code = "import sys, stratacache; print(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code, *OPTIONAL],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("cls", ["Cache", "AsyncCache"])
def test_a_redis_tier_without_redis_names_the_pip_line(cls: str, tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import stratacache\n"
        "try:\n"
        f"    stratacache.{cls}(redis='redis://127.0.0.1:1/0')\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, isinstance(e, stratacache.StratacacheError), e.name, e)\n"
    )
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "MissingExtraError True redis a Redis tier needs redis, which is not installed: "
        "pip install 'stratacache[redis]'\n"
    )


def test_missing_extra_error() -> None:
    e = MissingExtraError("tqdm", "cli", "stratacache analyze")
    assert isinstance(e, stratacache.StratacacheError)
    assert isinstance(e, ImportError)
    assert (e.name, e.extra, e.pip_line) == ("tqdm", "cli", "pip install 'stratacache[cli]'")
    assert str(e) == "stratacache analyze needs tqdm, which is not installed: " + e.pip_line


def test_require_names_the_top_level_package_that_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("matplotlib", "matplotlib.pyplot"):  # pyplot may be imported already
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError, match=r"plotting needs matplotlib, .*\[cli\]'$") as e:
        require("matplotlib.pyplot", "cli", "plotting")
    assert e.value.name == "matplotlib"
    assert not available("matplotlib")
    assert require("json", "cli").dumps([1]) == "[1]"


def test_require_passes_an_import_error_from_inside_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken install is not a missing extra: the original error tells what is wrong."""
    (tmp_path / "half_installed").mkdir()
    (tmp_path / "half_installed" / "__init__.py").write_text("import its_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as e:
        require("half_installed", "cli")
    assert not isinstance(e.value, MissingExtraError)
    assert e.value.name == "its_missing_dependency"


def test_progress_off_needs_no_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with progress_bar(False, "analyze(progress=True)", total=3) as bar:
        bar.update(2)
        bar.set_postfix_str("step")
    assert bar.n == 2
    with pytest.raises(MissingExtraError, match=r"analyze\(progress=True\) needs tqdm"):
        progress_bar(True, "analyze(progress=True)", total=3)


def test_analysis_runs_without_tqdm_unless_progress_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    result = analysis.analyze(SAMPLE_TRACE, policies=["lru"], quick=True)
    assert result.trace.requests == 50_000
    with pytest.raises(MissingExtraError, match=r"pip install 'stratacache\[cli\]'"):
        analysis.analyze(SAMPLE_TRACE, policies=["lru"], quick=True, progress=True)


def metadata() -> dict[str, object]:
    tomllib = pytest.importorskip("tomllib")
    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_the_core_has_no_dependencies_and_the_extras_theirs() -> None:
    project = metadata()
    assert project["dependencies"] == []
    extras = project["optional-dependencies"]
    assert isinstance(extras, dict)
    assert extras["redis"] == ["redis[hiredis]>=5.0", "hiredis>=3.0"]
    assert {r.split(">")[0] for r in extras["cli"]} == {"tqdm", "matplotlib"}
    ours = next(r for r in extras["test"] if r.startswith("stratacache["))
    assert {"redis", "cli", "notebooks", "django", "flask"} <= set(ours[12:-1].split(","))
    installed = importlib.metadata.metadata("stratacache").get_all("Requires-Dist") or []
    assert all("extra ==" in r for r in installed), installed


def test_one_version_everywhere(tmp_path: Path) -> None:
    cmake = re.search(
        r"project\(stratacache VERSION ([\d.]+)", (ROOT / "CMakeLists.txt").read_text()
    )
    assert cmake is not None
    assert metadata()["version"] == cmake[1] == stratacache.__version__
    assert importlib.metadata.version("stratacache") == stratacache.__version__
    done = subprocess.run(
        [sys.executable, "-m", "stratacache", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout == f"stratacache {stratacache.__version__}\n"
    assert f"## {stratacache.__version__} - " in (ROOT / "CHANGELOG.md").read_text()


def test_license_is_the_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text
    assert metadata()["license"] == {"text": "Apache-2.0"}


def test_the_sample_trace_is_what_its_script_generates() -> None:
    assert SAMPLE_TRACE.stat().st_size < 300_000
    script = ROOT / "scripts" / "make_sample_trace.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check", "--out", str(SAMPLE_TRACE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date (50,000 requests)" in done.stdout


def test_the_sdist_holds_the_sources_and_nothing_built(tmp_path: Path) -> None:
    pytest.importorskip("scikit_build_core")
    code = "import sys; from scikit_build_core.build import build_sdist; print(build_sdist(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    name = done.stdout.strip().splitlines()[-1]
    assert name == f"stratacache-{stratacache.__version__}.tar.gz"
    with tarfile.open(tmp_path / name) as sdist:
        members = {m.split("/", 1)[1] for m in sdist.getnames() if "/" in m}
    for needed in (
        "pyproject.toml",
        "CMakeLists.txt",
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "cpp/codec/codec.cpp",
        "bindings/module.cpp",
        "python/stratacache/_core.pyi",
        "python/stratacache/data/sample_trace.txt.gz",
    ):
        assert needed in members
    built = sorted(m for m in members if m.split("/")[0] in ("build", "dist", ".git"))
    assert built == []
    assert not any(m.endswith(".so") for m in members)


def test_the_readme_examples_run(tmp_path: Path) -> None:
    """Every Python block of the README in order, in one interpreter, from an empty directory;
    the Redis block is left out (its URLs name servers of a deployment; tests_py/tiers runs
    the tier against real ones)."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    runnable = [b for b in blocks if "redis=" not in b]
    assert len(runnable) >= 5
    assert not any("shared/traces" in b for b in blocks)
    done = python("\n".join(runnable), tmp_path, MPLBACKEND="Agg")
    assert done.returncode == 0, done.stderr


def test_missing_extra_error_is_public_and_an_import_error() -> None:
    assert stratacache.MissingExtraError is MissingExtraError
    assert issubclass(stratacache.MissingExtraError, (stratacache.StratacacheError, ImportError))
    err = stratacache.MissingExtraError("redis", "redis", "Cache(redis=...)")
    assert err.name == "redis"
    assert "pip install 'stratacache[redis]'" in str(err)
