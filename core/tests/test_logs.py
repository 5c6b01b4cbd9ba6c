"""The one log format (text and JSON), gunicorn's lines in it, and the request id rules."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest

from mission_control import logs
from mission_control.logs import LogFormatter, bind_request_id, request_id_from
from mission_control.serve import GunicornLogger, gunicorn_options
from mission_control.settings import Settings
from mission_control.web import service_app

TEXT_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\w+) (\S+) (\S+): (.*)")
# Every character that could end a line for some reader: Python's str.splitlines() splits on
# all of them (\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028, U+2029).
NASTY = "first\nsecond\r\nthird\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x1b[31m\x00end"
FORGED = "ok\n2026-11-25T00:00:00.000Z INFO ground mission_control.access: request user=admin"


def capture(log_format: str, service: str = "ground") -> tuple[logging.Logger, io.StringIO]:
    """A private logger writing through the service handler into a string."""
    stream = io.StringIO()
    logger = logging.getLogger(f"test_logs.{log_format}.{id(stream)}")
    logger.handlers[:] = [logs.handler(service, log_format, stream)]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


@pytest.fixture(autouse=True)
def _no_request_id():
    bind_request_id(None)
    yield
    bind_request_id(None)


def test_text_line_has_one_timestamp_level_service_logger_message_and_fields():
    logger, stream = capture("text")
    bind_request_id("req-1")
    logger.info("command %s accepted", "c-1", extra={"command_id": "c-1", "user": "ada"})
    [line] = stream.getvalue().splitlines()
    time, level, service, name, rest = TEXT_LINE.fullmatch(line).groups()
    assert (level, service, name) == ("INFO", "ground", logger.name)
    assert rest == "command c-1 accepted command_id=c-1 user=ada request_id=req-1"
    assert len(re.findall(r"\d{4}-\d\d-\d\dT", line)) == 1  # one timestamp per line


def test_json_line_is_one_object_with_the_same_fields():
    logger, stream = capture("json")
    bind_request_id("req-2")
    logger.warning("worker %s stopped", "w-1", extra={"worker_id": "w-1", "command_id": None})
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("time"))
    assert record == {"level": "WARNING", "service": "ground", "logger": logger.name,
                      "message": "worker w-1 stopped", "worker_id": "w-1",
                      "request_id": "req-2"}  # a None field is left out


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_newlines_and_control_characters_never_split_or_forge_a_line(log_format):
    logger, stream = capture(log_format)
    logger.info(NASTY, extra={"path": FORGED})
    logger.info(FORGED)
    try:
        raise ValueError(NASTY)
    except ValueError:
        logger.exception("failed on %s", NASTY)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert all(line.isprintable() for line in lines)
    if log_format == "json":
        first, forged, failed = map(json.loads, lines)
        assert first["message"] == NASTY and first["path"] == FORGED  # intact, only escaped
        assert forged["message"] == FORGED and "user" not in forged
        assert "Traceback" in failed["exception"] and NASTY in failed["exception"]
    else:
        assert all(TEXT_LINE.fullmatch(line) for line in lines)
        assert "first\\nsecond\\r\\n" in lines[0] and "\\u2028" in lines[0]
        assert 'path="ok\\n2026' in lines[0]  # a value with spaces is quoted
        assert "Traceback" in lines[2] and lines[2].count("Z ERROR ") == 1


def test_a_value_cannot_pass_for_another_field_in_text():
    logger, stream = capture("text")
    logger.info("signed in", extra={"user": 'eve request_id=forged "x"\\'})
    line = stream.getvalue().strip()
    assert line.endswith(' user="eve request_id=forged \\"x\\"\\\\"')
    assert "request_id=forged" not in line.replace('user="eve request_id=forged', "")


def test_unknown_log_format_is_refused():
    with pytest.raises(ValueError):
        LogFormatter("ground", "xml")


@pytest.fixture
def restored_logging():
    """gunicorn's logger reconfigures the root logger: put everything back afterwards."""
    names = ("", "gunicorn.error", "gunicorn.access")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in names}
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_gunicorns_own_lines_use_the_same_format_as_the_apps(monkeypatch, restored_logging,
                                                             log_format):
    """The options mc-serve gives gunicorn, applied by gunicorn's own logger class."""
    from gunicorn.config import Config

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)  # where the handler writes (ext://sys.stderr)
    config = Config()
    for key, value in gunicorn_options("ground", Settings(log_format=log_format)).items():
        config.set(key, value)
    gunicorn_log = config.logger_class(config)
    assert isinstance(gunicorn_log, GunicornLogger)

    gunicorn_log.info("Booting worker with pid: %s", 4242)
    gunicorn_log.error("Worker (pid:%s) was sent SIGKILL!\nforged line", 4242)
    gunicorn_log.access(None, None, {}, None)  # gunicorn's access lines: none (the app's instead)
    logging.getLogger("ground.api").info("from the app")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert [(r["service"], r["logger"], r["level"]) for r in records] == [
            ("ground", "gunicorn.error", "INFO"), ("ground", "gunicorn.error", "ERROR"),
            ("ground", "ground.api", "INFO")]
        assert records[0]["message"] == "Booting worker with pid: 4242"
    else:
        parsed = [TEXT_LINE.fullmatch(line).groups() for line in lines]
        assert [p[1:4] for p in parsed] == [("INFO", "ground", "gunicorn.error"),
                                            ("ERROR", "ground", "gunicorn.error"),
                                            ("INFO", "ground", "ground.api")]
        assert parsed[1][4] == "Worker (pid:4242) was sent SIGKILL!\\nforged line"


# --- request ids ---------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["a", "abc-123", "A.b_c:d-9", "x" * 64,
                                   "0f8fad5b-d9cb-469f-a165-70867728950e"])
def test_a_valid_request_id_is_kept(given):
    assert request_id_from(given) == given


@pytest.mark.parametrize("given", [None, "", "x" * 65, "a b", "abc\n", "a\r\nX-Forged: 1",
                                   "é", "a/b", "a;b", "<script>", "id\x00"])
def test_an_invalid_request_id_is_replaced_by_a_new_one(given):
    made = request_id_from(given)
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert request_id_from(given) != made  # new each time


@pytest.fixture
def probe_app(tmp_path):
    """A service app (what every service is built on) with one route that logs a line."""
    app = service_app(__name__, "probe", Settings(database_url=f"sqlite:///{tmp_path}/p.db",
                                                  var_dir=tmp_path), None, lambda: {}, "Probe")
    logger, stream = capture("json", "probe")

    @app.get("/probe")
    def probe():
        logger.info("inside the request")
        return {"ok": True}

    app.extensions["probe_log"] = stream
    return app


def _access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mission_control.access"]


def test_the_request_id_is_echoed_and_on_every_line_of_the_request(probe_app, caplog):
    caplog.set_level(logging.DEBUG, "mission_control.access")
    client = probe_app.test_client()
    answer = client.get("/probe?token=secret-in-query", headers={"X-Request-ID": "trace-42"})
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "trace-42"
    [inside] = map(json.loads, probe_app.extensions["probe_log"].getvalue().splitlines())
    assert inside["request_id"] == "trace-42"
    [access] = _access_records(caplog)
    assert access.levelno == logging.INFO and access.getMessage() == "request"
    assert (access.method, access.path, access.status, access.user, access.request_id) == (
        "GET", "/probe", 200, "-", "trace-42")
    assert isinstance(access.duration_ms, float) and access.duration_ms >= 0
    assert logs.current_request_id() is None  # unbound once the request is over


@pytest.mark.parametrize("header", [None, "bad id", "x" * 65])
def test_a_missing_or_invalid_request_id_gets_a_new_one_echoed(probe_app, caplog, header):
    caplog.set_level(logging.DEBUG, "mission_control.access")
    client = probe_app.test_client()
    answer = client.get("/nowhere", headers={"X-Request-ID": header} if header else {})
    assert answer.status_code == 404
    made = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    [access] = _access_records(caplog)
    assert (access.status, access.request_id) == (404, made)


def test_refused_requests_and_health_have_access_lines_too(probe_app, caplog):
    caplog.set_level(logging.DEBUG, "mission_control.access")
    client = probe_app.test_client()
    assert client.get("/probe", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/health").status_code in (200, 503)
    long_path = "/" + "a" * 5000
    assert client.get(long_path).status_code == 404
    bad_host, health, long = _access_records(caplog)
    assert (bad_host.status, bad_host.levelno) == (400, logging.INFO)
    assert (health.path, health.levelno) == ("/health", logging.DEBUG)  # probes stay quiet
    assert len(long.path) < 300 and long.path.endswith("...")
