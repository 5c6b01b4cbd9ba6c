from mission_control.serve import addresses, bind_address, gunicorn_options
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
