"""/metrics on the real processes: every web service under gunicorn with 2 workers, and the
command-sender's METRICS_PORT. Figures move as commands flow, match the API, and are whole
whichever gunicorn worker answers the scrape."""

from __future__ import annotations

import pytest
import requests

from mission_control.metrics_testing import figure, promtool_check
from mission_control.status import FINAL, Status

from .harness import free_port, wait_for

SERVICES = ("ground", "spacecraft", "command-sender", "registry-api")
TRANSITIONS = "mc_telecommand_transitions_total"


def scrape(url: str) -> str:
    # A new connection each time, so either gunicorn worker may answer.
    response = requests.get(f"{url}/metrics", timeout=10, headers={"Connection": "close"})
    assert response.status_code == 200, response.text
    return response.text


def worker_health(url: str) -> requests.Response | None:
    try:
        return requests.get(f"{url}/health", timeout=2)
    except requests.RequestException:
        return None


def test_metrics_move_as_commands_flow_here_or_on_a_stack(system_factory):
    """The part that holds against a shared stack too (MC_E2E_STACK=1): others may be sending
    commands meanwhile, so figures move by at least what this test did."""
    port = free_port()
    system = system_factory(services=("ground", "spacecraft", "command-sender"),
                            metrics_port=port, max_transmit_delay_s=0.2, max_stage_delay_s=0.1)
    operator = system.headers("operator")
    before = scrape(system.ground_url)
    ids = [requests.post(f"{system.ground_url}/api/telecommands", headers=operator,
                         json={"command_name": "PING"}, timeout=10).json()["id"]
           for _ in range(3)]

    def final(command_id: str) -> bool:
        status = requests.get(f"{system.ground_url}/api/telecommands/{command_id}",
                              headers=operator, timeout=10).json()["status"]
        return Status(status) in FINAL

    wait_for(lambda: all(final(i) for i in ids), timeout=system.wait_s(30),
             message="this test's commands final")
    after = scrape(system.ground_url)
    assert figure(after, TRANSITIONS, from_status="NONE", to_status="READY") >= \
        figure(before, TRANSITIONS, from_status="NONE", to_status="READY") + 3
    assert sum(figure(after, "mc_telecommands", status=s.value) for s in FINAL) >= 3
    promtool_check(after)
    wait_for(lambda: system.worker_metrics_urls, timeout=5, message="a command-sender's port")
    for url in system.worker_metrics_urls:  # each replica a stack names, or this test's own
        page = scrape(url)
        # every command a worker transmits is timed once, on the worker that claimed it
        transmitted = figure(page, TRANSITIONS, from_status="READY", to_status="TRANSMITTED")
        assert figure(page, "mc_pickup_latency_seconds_count") == transmitted
        assert transmitted >= 3 or not system.private  # here, this test's own worker sent them
        promtool_check(page)


@pytest.mark.local_only("needs its own workers and database: exact counts, 2 gunicorn workers")
def test_metrics_follow_the_commands_on_every_service(system_factory):
    port = free_port()
    system = system_factory(services=SERVICES, metrics_port=port)
    worker_url = f"http://127.0.0.1:{port}"
    health = wait_for(lambda: (r := worker_health(worker_url)) is not None
                      and r.status_code == 200 and r, timeout=30, message="worker /health")
    assert health.json()["status"] == "ok" and health.json()["worker_id"].startswith(
        "command-sender@")
    operator = system.headers("operator")  # signed up before the first scrape
    ground_before, worker_before = scrape(system.ground_url), scrape(worker_url)

    ids = []
    for _ in range(12):
        response = requests.post(f"{system.ground_url}/api/telecommands", headers=operator,
                                 json={"command_name": "PING"}, timeout=10)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    cancelled = requests.post(f"{system.ground_url}/api/telecommands", headers=operator,
                              json={"command_name": "PING"}, timeout=10).json()["id"]
    requests.put(f"{system.ground_url}/api/telecommands/{cancelled}/cancel", headers=operator,
                 timeout=10)  # may lose the race with the worker (0.2 s window): both fine

    def all_final():
        items = requests.get(f"{system.ground_url}/api/telecommands?limit=500",
                             headers=operator, timeout=10).json()["items"]
        return items if all(Status(c["status"]) in FINAL for c in items) else None

    items = wait_for(all_final, timeout=60, message="every command final")
    ground, worker = scrape(system.ground_url), scrape(worker_url)

    def moved(after: str, before: str, name: str, **labels: str) -> float:
        return figure(after, name, **labels) - figure(before, name, **labels)

    # ground's telecommands by status are the API's
    for status in Status:
        assert figure(ground, "mc_telecommands", status=status.value) == \
            sum(1 for c in items if c["status"] == status.value), status
    # creations and cancels counted on ground, the worker's steps on its port
    assert moved(ground, ground_before, TRANSITIONS, from_status="NONE", to_status="READY") == 13
    transmitted = sum(1 for c in items if c["status"] != "CANCELLED")
    assert moved(ground, ground_before, TRANSITIONS, from_status="READY",
                 to_status="CANCELLED") == 13 - transmitted
    assert moved(worker, worker_before, TRANSITIONS, from_status="READY",
                 to_status="TRANSMITTED") == transmitted
    assert moved(worker, worker_before, TRANSITIONS, from_status="ACKNOWLEDGED",
                 to_status="EXECUTED") == transmitted  # EXECUTION_FAILURE_RATE=0
    assert moved(worker, worker_before, "mc_pickup_latency_seconds_count") == transmitted
    assert figure(worker, "mc_uplink_errors_total") == 0
    for page in (ground, worker):
        promtool_check(page)

    # whole figures with 2 gunicorn workers: N requests are N in every scrape
    count = "mc_http_request_duration_seconds_count"
    labels = {"service": "ground", "route": "/health", "status": "200"}
    before = figure(scrape(system.ground_url), count, **labels)
    for _ in range(30):
        assert requests.get(f"{system.ground_url}/health", timeout=10,
                            headers={"Connection": "close"}).status_code == 200
    for _ in range(6):
        assert figure(scrape(system.ground_url), count, **labels) == before + 30

    # a refused sign-in moves the counter, on whichever service refused it
    for url in (system.ground_url, system.registry_url):
        before = figure(scrape(url), "mc_logins_refused_total", reason="bad_credentials")
        refused = requests.post(f"{url}/api/auth/tokens", timeout=10,
                                json={"username": "mallory", "password": "not-a-password"})
        assert refused.status_code == 401
        assert figure(scrape(url), "mc_logins_refused_total",
                      reason="bad_credentials") == before + 1

    for url, service in ((system.registry_url, "registry-api"),
                         (system.spacecraft_url, "spacecraft")):
        page = scrape(url)
        assert figure(page, "mc_build_info", service=service) == 1
        assert figure(page, count, service=service) >= 1
        promtool_check(page)
