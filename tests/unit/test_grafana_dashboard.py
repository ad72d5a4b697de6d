"""The example Grafana dashboard names only metrics Cairn defines, and shows each of them."""

import json
import re

from prometheus_client import REGISTRY

from cairn.adapters import metrics
from cairn.settings import REPO_ROOT

DASHBOARD = REPO_ROOT / "infra" / "grafana" / "cairn.json"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def defined() -> set[str]:
    """Every cairn_ family metrics.py registers, and the store's totals the gateway adds."""
    assert metrics.EVENTS_ACCEPTED  # importing the module registers its metrics
    names = {m.name for m in REGISTRY.collect() if m.name.startswith("cairn_")}
    return names | set(metrics.STORE_METRICS)


def family(sample: str) -> str:
    for suffix in SUFFIXES:
        if sample.endswith(suffix) and sample.removesuffix(suffix) in defined():
            return sample.removesuffix(suffix)
    return sample


def named_in_dashboard() -> set[str]:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    return {family(name) for e in exprs for name in re.findall(r"\bcairn_[a-z_]+", e)}


def test_every_metric_the_dashboard_names_is_defined():
    unknown = named_in_dashboard() - defined()
    assert not unknown, f"the dashboard names metrics Cairn does not define: {unknown}"


def test_every_defined_metric_is_on_the_dashboard():
    assert defined() - named_in_dashboard() == set()


def test_a_misspelt_metric_would_be_caught():
    assert family("cairn_awardz_total") not in defined()
