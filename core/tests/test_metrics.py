"""mission_control.metrics: /metrics on every service, the worker's port, multiprocess mode."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mission_control import lifecycle, metrics
from mission_control.metrics_testing import figure, promtool_check
from mission_control.migrate import upgrade
from mission_control.settings import Settings
from mission_control.status import Status
from mission_control.testing import gen_command, healthy_within

TRANSITIONS = "mc_telecommand_transitions_total"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("service", ["registry-api", "spacecraft"])
def test_every_service_serves_its_metrics_to_anyone(database, var_dir, service):
    from registry_api.app import create_app as registry_app
    from spacecraft.app import create_app as spacecraft_app

    factory = {"registry-api": registry_app, "spacecraft": spacecraft_app}[service]
    app = factory(Settings(database_url=database.url, var_dir=var_dir), database=database)
    client = app.test_client()
    client.get("/health")
    page = client.get("/metrics")  # no token: public like /health
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    assert figure(text, "mc_build_info", service=service) == 1
    assert figure(text, "mc_http_request_duration_seconds_count", service=service,
                  route="/health", status="200") >= 1
    assert "\nmc_telecommands{" not in text  # ground's alone: no double counts in a sum
    promtool_check(text)


def test_promtool_check_fails_a_broken_page():
    with pytest.raises(AssertionError):
        promtool_check("# TYPE mc_x counter\nmc_x{a=\"1\" 1\n")
    with pytest.raises(AssertionError):  # a lint warning: a counter not ending in _total
        promtool_check("# HELP mc_x x\n# TYPE mc_x counter\nmc_x 1\n")


def test_series_names_start_with_the_prefix():
    with pytest.raises(ValueError):
        metrics.counter("requests_total", "no prefix")


def test_transitions_count_only_once_their_transaction_commits(database):
    labels = {"from_status": "READY", "to_status": "CANCELLED"}
    command_id = gen_command(database)
    before = figure(metrics.exposition(), TRANSITIONS, **labels)
    with pytest.raises(RuntimeError):
        with database.transaction() as session:
            assert lifecycle.transition(session, command_id, Status.READY, Status.CANCELLED,
                                        actor="tester")
            raise RuntimeError("rolled back")
    assert figure(metrics.exposition(), TRANSITIONS, **labels) == before
    with database.transaction() as session:
        assert lifecycle.transition(session, command_id, Status.READY, Status.CANCELLED,
                                    actor="tester")
    assert figure(metrics.exposition(), TRANSITIONS, **labels) == before + 1


def test_a_scraped_gauge_that_cannot_read_is_left_out_not_an_error(caplog):
    def broken():
        raise OSError("database unreachable")

    fine = metrics.ScrapedGauge("mc_test_fine", "reads", "kind", lambda: {"a": 2}, always=["b"])
    page = metrics.exposition([metrics.ScrapedGauge("mc_test_broken", "fails", "kind", broken),
                               fine]).decode()
    assert "mc_test_broken" not in page
    assert figure(page, "mc_test_fine", kind="a") == 2
    assert 'mc_test_fine{kind="b"} 0.0' in page
    assert "database unreachable" in caplog.text


# -- the worker's port (metrics.serve) -------------------------------------------------------

def test_the_metrics_port_serves_metrics_and_health():
    healthy = {"now": False}
    port = free_port()
    server = metrics.serve(port, "127.0.0.1",
                           health=lambda: (healthy["now"], {"worker_id": "w-1"}))
    try:
        base = f"http://127.0.0.1:{port}"
        page = requests.get(f"{base}/metrics", timeout=5)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        promtool_check(page.text)
        unhealthy = requests.get(f"{base}/health", timeout=5)
        assert (unhealthy.status_code, unhealthy.json()) == \
            (503, {"status": "unavailable", "worker_id": "w-1"})
        healthy["now"] = True
        assert requests.get(f"{base}/health", timeout=5).json() == \
            {"status": "ok", "worker_id": "w-1"}
        missing = requests.get(f"{base}/other", timeout=5)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("raw, status", [
    (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    (b"BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    (b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    (b"\x00\x01garbage\r\n\r\n", 400),
    (b"GET /metrics HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", 431),
])
def test_the_metrics_port_refuses_what_it_cannot_serve_in_json(raw, status):
    port = free_port()
    server = metrics.serve(port, "127.0.0.1")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(raw)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b" ", 2)[1] == str(status).encode(), head
        assert b"Content-Type: application/json" in head
        assert json.loads(body)["error"]
    finally:
        server.shutdown()
        server.server_close()


def test_a_taken_metrics_port_is_logged_and_nothing_else_happens(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR):
            assert metrics.serve(port, "127.0.0.1") is None
    assert f"127.0.0.1:{port}" in caplog.text
    assert metrics.serve(0, "127.0.0.1") is None  # 0: no port at all


# -- multiprocess mode under mc-serve --------------------------------------------------------

def test_mc_serve_sets_the_directory_before_prometheus_client_is_imported():
    """prometheus_client picks its value class once, at import: mc-serve's master must not
    import it before metrics_dir.prepare sets PROMETHEUS_MULTIPROC_DIR."""
    code = "import sys, mission_control.serve; sys.exit('prometheus_client' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_gunicorn_workers_add_up_to_whole_figures(tmp_path):
    """Two worker processes answer; every scrape, whichever of them answers, counts all."""
    url = f"sqlite:///{tmp_path / 'mc.db'}"
    upgrade(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var"),
           "SPACECRAFT_URL": f"http://127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
           "WEB_THREADS": "1", "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "mission_control.serve", "spacecraft"],
                              env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        folders = list(tmp_path.glob("mc-metrics-spacecraft-*"))
        assert len(folders) == 1
        before = _health_count(requests.get(f"{base}/metrics", timeout=5).text)
        sent = 0
        # A new connection each, until both workers have answered some (each process
        # writes its own files, named by its pid).
        while sent < 40 or len(list(folders[0].glob("histogram_*.db"))) < 2:
            assert sent < 500, "one worker answered every request"
            assert requests.get(f"{base}/health", timeout=5,
                                headers={"Connection": "close"}).status_code == 200
            sent += 1
        for _ in range(6):  # whichever worker answers the scrape
            page = requests.get(f"{base}/metrics", timeout=5, headers={"Connection": "close"})
            assert _health_count(page.text) == before + sent
        assert figure(page.text, "mc_build_info", service="spacecraft") == 1
        promtool_check(page.text)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert not list(tmp_path.glob("mc-metrics-spacecraft-*")), "the directory outlived mc-serve"


def _health_count(page: str) -> float:
    return figure(page, "mc_http_request_duration_seconds_count", route="/health", status="200")


def _wait_until_up(base: str) -> None:
    if not healthy_within(base, 30):
        raise TimeoutError(f"{base} did not start")


def test_the_directory_is_refused_once_prometheus_client_is_imported():
    from mission_control import metrics_dir

    assert "prometheus_client.values" in sys.modules  # this test process imported it
    with pytest.raises(RuntimeError):
        metrics_dir.prepare("ground")


def test_the_observability_page_lists_every_series_with_its_type_and_labels(database, var_dir):
    """docs/observability.md's series table and the series the services declare agree."""
    import re

    from command_sender import monitoring  # noqa: F401  (declares the worker's series)
    from ground.app import create_app
    from prometheus_client.parser import text_string_to_metric_families
    from robot_server.app import create_app as robot_server_app

    settings = Settings(database_url=database.url, var_dir=var_dir)
    client = create_app(settings, database=database).test_client()
    client.get("/health")
    text = client.get("/metrics").get_data(as_text=True)
    # robot-server's page adds its own series (mc_robots_online is read at its scrapes only)
    robot_server = robot_server_app(settings, database=database).test_client()
    text += robot_server.get("/metrics").get_data(as_text=True)
    types = dict(re.findall(r"^# TYPE (mc_\S+) (\w+)$", text, re.M))
    labels = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("mc_"):
                labels.setdefault(family.name, set()).update(set(sample.labels) - {"le"})
    served = {name: (kind, labels.get(name.removesuffix("_total"), set()))
              for name, kind in types.items() if not name.startswith("mc_test_")}

    docs = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
    table = re.search(r"^### Series\n(.*?)(?=^#)", docs.read_text(), re.M | re.S).group(1)
    documented = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `mc_"):
            documented[cells[0].strip("`")] = (
                cells[1], set() if cells[2] == "none" else set(re.findall(r"`(\w+)`", cells[2])))
    assert documented == served
