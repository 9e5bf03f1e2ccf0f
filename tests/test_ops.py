"""ops/: the Grafana dashboard and the Prometheus rules read only metrics the code emits.

promtool checks and unit-tests the rules themselves (`make lint`); this catches a renamed or
removed metric that would leave a panel empty or an alert silent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"careops_[a-z0-9_]+")
SUFFIXES = ("", "_total", "_bucket", "_sum", "_count")


def emitted() -> set[str]:
    sources = [
        *(ROOT / "supabase" / "migrations").glob("*.sql"),
        *(ROOT / "edge_api").glob("*.py"),
        *(ROOT / "worker").glob("*.py"),
    ]
    names = {
        name for path in sources for name in re.findall(r"[\"'](careops_[a-z0-9_]+)[\"']", path.read_text())
    }
    return {name + suffix for name in names for suffix in SUFFIXES}


def rule_expressions() -> list[str]:
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "careops.rules.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((ROOT / "ops" / "grafana" / "careops.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_metric_the_rules_and_the_dashboard_read_is_emitted() -> None:
    known = emitted()
    used = {name for expr in rule_expressions() + dashboard_expressions() for name in NAME.findall(expr)}
    assert used - known == set()
    # and the pieces the issue names are all watched
    assert {
        "careops_queue_depth",
        "careops_queue_oldest_message_age_seconds",
        "careops_provider_sends_total",
        "careops_delivery_fallbacks_total",
        "careops_worker_jobs_total",
        "careops_cron_job_failed_runs_last_hour",
        "careops_abuse_caps_hit_last_day",
    } <= used


def test_every_alert_has_a_runbook_section() -> None:
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "careops.rules.yml").read_text())
    runbook = (ROOT / "docs" / "operations.md").read_text()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"
            assert f"### {rule['alert']}" in runbook, rule["alert"]


def test_the_dashboard_panels_do_not_overlap() -> None:
    dashboard = json.loads((ROOT / "ops" / "grafana" / "careops.json").read_text())
    cells = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))
