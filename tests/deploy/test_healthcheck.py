"""deploy/healthcheck.py, the images' HEALTHCHECK: the port each service really listens on,
and exit 0 only for a 200 from /health (run as the image runs it, against a real server)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading

import pytest

from mission_control.settings import Settings

from .files import ROOT

SCRIPT = ROOT / "deploy" / "healthcheck.py"


def load():
    import importlib.util
    spec = importlib.util.spec_from_file_location("healthcheck", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_service_is_checked_on_the_port_it_listens_on():
    health_url = load().health_url
    settings = Settings(ground_url="http://ground:5000", registry_url="http://registry-api:8001",
                        spacecraft_url="http://spacecraft:8080", metrics_port=9101)
    assert health_url("ground", settings) == "http://127.0.0.1:5000/health"
    assert health_url("registry-api", settings) == "http://127.0.0.1:8001/health"
    assert health_url("spacecraft", settings) == "http://127.0.0.1:8080/health"
    assert health_url("command-sender", settings) == "http://127.0.0.1:9101/health"
    with pytest.raises(ValueError, match="METRICS_PORT is 0"):
        health_url("command-sender", Settings(metrics_port=0))
    with pytest.raises(ValueError, match="unknown service"):
        health_url("robot-client", settings)


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    """A real HTTP server on a free loopback port; set ``.status`` to what /health answers."""
    handler = type("Handler", (_Health,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.handler = handler
    yield server
    server.shutdown()
    server.server_close()


def check(service: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    environment.update(env)
    return subprocess.run([sys.executable, str(SCRIPT), service], env=environment,
                          capture_output=True, text=True, timeout=30)


def test_healthy_when_health_answers_200(health_server):
    port = health_server.server_address[1]
    result = check("ground", GROUND_URL=f"http://ground:{port}")
    assert result.returncode == 0, result.stderr
    result = check("command-sender", METRICS_PORT=str(port))
    assert result.returncode == 0, result.stderr


def test_unhealthy_when_health_answers_503(health_server):
    health_server.handler.status = 503
    port = health_server.server_address[1]
    result = check("spacecraft", SPACECRAFT_URL=f"http://spacecraft:{port}")
    assert result.returncode == 1 and "answered 503" in result.stderr


def test_unhealthy_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = check("registry-api", REGISTRY_URL=f"http://registry-api:{port}")
    assert result.returncode == 1 and "did not answer" in result.stderr


def test_unhealthy_on_bad_settings_or_usage():
    result = check("command-sender", METRICS_PORT="0")
    assert result.returncode == 1 and "METRICS_PORT is 0" in result.stderr
    result = check("ground", GROUND_URL="http://ground:5000", METRICS_PORT="not-a-port")
    assert result.returncode == 1 and "metrics_port" in result.stderr
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1 and "usage" in result.stderr
