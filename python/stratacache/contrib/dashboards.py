"""Where the shipped Grafana dashboard and Prometheus rules are, inside the installed package.

    cp "$(python -c 'import stratacache.contrib.dashboards as d; print(d.RULES_PATH)')" rules/

`grafana_dashboard.json` imports into Grafana (it asks for a Prometheus data source);
`alerts.yml` holds the recording rules it uses and the alerts (hit-ratio drop, breaker open,
coherence lost, Redis error rate).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["DASHBOARD_PATH", "RULES_PATH", "dashboard"]

_HERE = Path(__file__).resolve().parent
#: Prometheus recording and alerting rules (`rule_files:` of prometheus.yml).
RULES_PATH: Path = _HERE / "alerts.yml"
#: The Grafana dashboard JSON.
DASHBOARD_PATH: Path = _HERE / "grafana_dashboard.json"


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard as a dict (e.g. to set its uid before provisioning)."""
    loaded: dict[str, Any] = json.loads(DASHBOARD_PATH.read_text(encoding="utf-8"))
    return loaded
