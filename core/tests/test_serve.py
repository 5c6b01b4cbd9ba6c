from mission_control.serve import addresses, bind_address
from mission_control.settings import Settings


def test_each_service_binds_where_its_url_says():
    assert bind_address("http://127.0.0.1:5001") == "127.0.0.1:5001"
    assert bind_address("http://0.0.0.0:8080/") == "0.0.0.0:8080"


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
