import json
import os
import signal
import socket
import subprocess
import sys
import time

from mission_control.serve import addresses, bind_address, gunicorn_options
from mission_control.settings import Settings


def test_each_service_binds_where_its_url_says():
    assert bind_address("http://127.0.0.1:5001") == "127.0.0.1:5001"
    assert bind_address("http://0.0.0.0:8080/") == "0.0.0.0:8080"
    assert bind_address("http://ground:5000", "0.0.0.0") == "0.0.0.0:5000"
    assert bind_address("http://127.0.0.1:5000", "::") == "[::]:5000"


def test_start_up_banner_names_every_address_and_hides_the_database_password():
    banner = addresses(Settings(ground_url="http://127.0.0.1:5123",
                                database_url="postgresql+psycopg2://ops:s3cret@db:5432/mc"))
    assert "http://127.0.0.1:5123/" in banner and "http://127.0.0.1:8000" in banner
    assert "command-sender" in banner
    assert "s3cret" not in banner and "ops:***@db" in banner


class _Task:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


def test_each_worker_starts_and_stops_its_apps_background_tasks():
    from types import SimpleNamespace

    from flask import Flask

    from mission_control.serve import start_background_tasks, stop_background_tasks

    app = Flask(__name__)
    task = _Task()
    app.extensions["background_tasks"] = [task]
    worker = SimpleNamespace(wsgi=app)  # what gunicorn's worker holds after loading the app
    start_background_tasks(worker)
    stop_background_tasks(None, worker)
    assert task.calls == ["start", "stop"]
    # The master also calls worker_exit, with a worker that never loaded the app.
    stop_background_tasks(None, SimpleNamespace())
    start_background_tasks(SimpleNamespace(wsgi=Flask(__name__)))


def test_workers_and_threads_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "7")

    options = gunicorn_options("registry-api", Settings(registry_url="http://127.0.0.1:8123"))

    assert (options["workers"], options["threads"]) == (3, 7)
    assert options["bind"] == "127.0.0.1:8123"


def test_workers_and_threads_default_to_two_and_four(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)

    assert (Settings().web_concurrency, Settings().web_threads) == (2, 4)


def test_what_gunicorn_itself_refuses_is_answered_in_json(tmp_path):
    """A request gunicorn cannot parse never reaches Flask: its refusal must be JSON too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'mc.db'}",
           "REGISTRY_URL": f"http://127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "WEB_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "mission_control.serve", "registry-api"],
                              env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        answers = [_raw_request(port, request) for request in (
            b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\x01b\r\n\r\n",
            b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            # An open route that reads its body (sign-in), so gunicorn's chunk parser is reached.
            b"POST /api/auth/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        )]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b" ")[1][:1] == b"4", answer[:300]
        assert b"Content-Type: application/json" in head
        document = json.loads(body)
        assert document["error"] and document["message"]


def _raw_request(port: int, request: bytes) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    with connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_robot_server_runs_gevents_worker_for_its_long_polls():
    options = gunicorn_options("robot-server", Settings(robot_server_url="http://127.0.0.1:7071"))

    assert options["worker_class"] == "gevent" and "threads" not in options
    assert options["worker_connections"] >= 1000
    assert gunicorn_options("ground", Settings())["worker_class"] == "gthread"
