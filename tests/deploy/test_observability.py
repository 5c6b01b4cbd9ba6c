"""Profile `observability`: Prometheus's configuration passes promtool and scrapes every
service; Grafana's dashboard parses and its queries are valid PromQL naming only our series."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from mission_control.serve import SERVICES
from mission_control.settings import Settings

from .files import APP_SERVICES, PROMTOOL, ROOT, compose, run, tool

PROMETHEUS_YML = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "mission-control.json"


def documented_series() -> dict[str, str]:
    """Name -> type of every series the services export, from docs/observability.md's series
    table (core/tests/test_metrics.py keeps that table equal to what the code declares)."""
    text = (ROOT / "docs" / "observability.md").read_text()
    table = re.search(r"^### Series\n(.*?)(?=^#)", text, re.M | re.S).group(1)
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `(mc_\w+)` \| (\w+) \|", table, re.M)}


SERIES = documented_series()
HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")


def promtool() -> str:
    return tool("promtool", PROMTOOL)


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def series_named(expr: str) -> set[str]:
    """The series an expression reads (histogram parts mapped to their histogram)."""
    named = set()
    for name in re.findall(r"\b(mc_[a-z_]+)\b", expr):
        for part in HISTOGRAM_PARTS:
            base = name.removesuffix(part)
            if base != name and SERIES.get(base) == "histogram":
                name = base
        named.add(name)
    return named


def test_promtool_accepts_the_prometheus_configuration():
    result = run(promtool(), "check", "config", str(PROMETHEUS_YML))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_can_fail(tmp_path):
    broken = tmp_path / "prometheus.yml"
    broken.write_text("scrape_configs:\n  - job_name: x\n    dns_sd_configs:\n"
                      "      - names: [command-sender]\n        type: TXT\n")
    assert run(promtool(), "check", "config", str(broken)).returncode != 0


def test_prometheus_scrapes_every_web_service_at_its_url_and_each_worker_by_dns():
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(APP_SERVICES)
    environment = compose()["x-service-urls"]
    for service, (_, url_setting) in SERVICES.items():
        url = environment[url_setting.upper()]
        assert jobs[service]["static_configs"] == [{"targets": [url.removeprefix("http://")]}]
        assert jobs[service].get("metrics_path", "/metrics") == "/metrics"
    (discovery,) = jobs["command-sender"]["dns_sd_configs"]
    assert discovery["names"] == ["command-sender"] and discovery["type"] == "A"
    assert discovery["port"] == Settings.model_fields["metrics_port"].default


def test_the_dashboard_queries_are_promql_that_promtool_parses(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(queries())]}]}
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = run(promtool(), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"record": "x:y", "expr": "sum by (status) (mc_telecommands"}]}]}))
    assert run(promtool(), "check", "rules", str(path)).returncode != 0, "the check can fail"


def test_the_dashboard_names_only_our_series_and_shows_each():
    named = set()
    for expr in queries():
        unknown = series_named(expr) - set(SERIES)
        assert not unknown, f"{expr}: no such series {unknown}"
        named |= series_named(expr)
    assert named == set(SERIES)


def test_histograms_are_read_through_their_buckets_and_counters_through_rates():
    for expr in queries():
        for name in re.findall(r"\b(mc_[a-z_]+)\b", expr):
            if SERIES.get(name) == "histogram":
                pytest.fail(f"{expr}: a histogram is read as _bucket, _count or _sum")
            if SERIES.get(name) == "counter":
                assert re.search(rf"(rate|increase)\({name}\[", expr), expr


def test_the_dashboard_uses_the_provisioned_data_source():
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        for item in [panel] + panel["targets"]:
            assert item["datasource"] == {"type": "prometheus", "uid": source["uid"]}


def test_grafana_loads_the_dashboards_folder_compose_mounts():
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" /
                                "mission-control.yml").read_text())["providers"]
    (provider,) = providers
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    for kind in ("datasources", "dashboards"):
        assert (f"./deploy/grafana/provisioning/{kind}:/etc/grafana/provisioning/{kind}:ro"
                in mounts)
    prometheus = compose()["services"]["prometheus"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in \
        prometheus["volumes"]
