"""The Grafana dashboard in docs/ asks only for metrics the project exports."""

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import project.metrics  # noqa: F401 - registers the project's metrics

DASHBOARD = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())


def exported() -> set[str]:
    return {sample.name for family in REGISTRY.collect() for sample in family.samples} | {
        family.name + suffix for family in REGISTRY.collect() for suffix in ("_total", "_bucket", "_count", "_sum")
    }


def test_every_expression_names_an_exported_metric():
    asked = {
        name
        for panel in DASHBOARD["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(auth_[a-z_]+)", target["expr"])
    }
    assert asked
    assert asked <= exported(), asked - exported()


def test_the_funnel_runs_from_sign_ups_to_completed_profiles():
    [funnel] = [panel for panel in DASHBOARD["panels"] if "funnel" in panel["title"].lower()]
    legends = [target["legendFormat"] for target in funnel["targets"]]
    assert legends[0] == "sign-ups started"
    assert legends[-1] == "profiles completed"
