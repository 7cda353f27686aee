"""The web demo at tiny sizes over real HTTP, and the main demo's --web when its extra is missing.

Timings are measured by the demo but never asserted here (BENCHMARKS.md, rule 6).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stratacache import demo

demo_web = pytest.importorskip("stratacache.demo_web")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")


def test_web_report_is_consistent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "web.json"
    argv = ["--requests", "200", "--keys", "30", "--capacity", "20", "--latency-ms", "0.1"]
    assert demo_web.main([*argv, "--uncached", "20", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert "hit ratio" in capsys.readouterr().out
    assert report["requests"] == 200
    assert report["hits"] + report["misses"] == 200
    assert report["service_calls"] == report["misses"]  # every miss asked the service once
    assert report["hits"] > 0
    assert report["latency"]["uncached"]["n"] == 20
    assert report["cache_stats"]["entries"] <= 20


def test_extra_routes_see_the_cache_and_are_reported() -> None:
    from starlette.responses import PlainTextResponse  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    seen: list[object] = []

    def routes(cache: object) -> list[Route]:
        async def metrics(request: object) -> PlainTextResponse:
            seen.append(cache)
            return PlainTextResponse(f"entries {len(cache)}")  # type: ignore[arg-type]

        return [Route("/metrics", metrics)]

    config = demo_web.WebDemoConfig(
        requests=40, keys=10, capacity=10, latency_ms=0.1, uncached=5, extra_routes=routes
    )
    report = demo_web.run_web_demo(config)
    assert len(seen) == 1  # fetched once, after the replay
    probe = report["extra_routes"]["/metrics"]
    assert probe["status"] == 200
    assert probe["text"] == f"entries {report['cache_stats']['entries']}"


def test_main_demo_says_how_to_get_the_web_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the demo extra were missing
    argv = ["--requests", "50", "--keys", "10", "--capacity", "5", "--latency-ms", "0.1"]
    out = tmp_path / "r.json"
    assert demo.main([*argv, "--uncached", "5", "--out", str(out), "--no-progress", "--web"]) == 0
    stdout = capsys.readouterr().out
    assert "hit ratio" in stdout  # the main demo ran
    assert "pip install 'stratacache[demo]'" in stdout
    assert not out.with_name("r_web.json").exists()


def test_a_missing_extra_names_its_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from stratacache import MissingExtraError  # noqa: PLC0415
    from stratacache.testing import http_servers  # noqa: PLC0415

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(MissingExtraError, match=r"stratacache\[demo\]"):
        demo_web.run_web_demo(demo_web.WebDemoConfig(requests=5, keys=5, uncached=1))
    with pytest.raises(MissingExtraError, match="uvicorn"), http_servers.asgi_server(object()):
        pass


def test_the_cli_serves_prometheus_metrics_that_agree_with_x_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("prometheus_client")
    out = tmp_path / "web.json"
    argv = ["--requests", "200", "--keys", "30", "--capacity", "20", "--latency-ms", "0.1"]
    assert demo_web.main([*argv, "--uncached", "5", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    scraped = report["extra_routes"]["/metrics"]
    assert scraped["status"] == 200
    summary = demo_web.metrics_summary(scraped["text"])
    assert summary["hits"] == report["hits"]
    # The middleware looks a GET up before the app says the route is unmarked: the scrape
    # itself is one L1 miss more than X-Cache counted.
    assert summary["misses"] == report["misses"] + 1
    assert "hit ratio" in capsys.readouterr().out.split("metrics")[-1]
