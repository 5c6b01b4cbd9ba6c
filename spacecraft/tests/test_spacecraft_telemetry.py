"""The spacecraft's telemetry pusher against a real ground (served on a loopback port), on both
databases: its state arrives as points, failures are logged without the token, one process
of a checkout pushes."""

from __future__ import annotations

import logging
import random
import socket
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from ground.app import create_app as ground_app
from mission_control import telemetry
from mission_control.service_token import ensure_telemetry_token, telemetry_token
from mission_control.settings import Settings
from mission_control.timeutil import utcnow
from spacecraft.schemas import Attitude, CommandCounts, StateReport
from spacecraft.telemetry import Simulation, TelemetryPusher


@pytest.fixture
def ground(database, var_dir):
    """ground on a free loopback port; yields its URL."""
    settings = Settings(database_url=database.url, var_dir=var_dir)
    server = make_server("127.0.0.1", 0, ground_app(settings, database=database), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def pusher_for(app, ground_url, tmp_path, **overrides) -> TelemetryPusher:
    settings = Settings(database_url=app.extensions["settings"].database_url,
                        var_dir=overrides.pop("var_dir", tmp_path), ground_url=ground_url,
                        **overrides)
    return TelemetryPusher(settings, app.extensions["onboard"].state, rng=random.Random(1))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_spacecraft_state_arrives_in_ground_as_points(app, database, ground, tmp_path):
    settings = Settings(database_url=database.url, var_dir=tmp_path)
    ensure_telemetry_token(database, settings)
    pusher = pusher_for(app, ground, tmp_path)
    try:
        assert pusher.run_once() == 7
    finally:
        pusher.stop()
    with database.transaction() as session:
        latest = {p["parameter"]: (p["value"], p["unit"]) for p in telemetry.latest(session, "spacecraft")}
    assert set(latest) == {"temperature", "battery", "attitude_roll", "attitude_pitch",
                           "attitude_yaw", "heater", "solar_array"}
    assert latest["heater"] == (0.0, None) and latest["battery"] == (80.0, "%")


def test_a_failed_push_is_logged_without_the_token_and_tried_again(app, database, tmp_path,
                                                                   caplog):
    ensure_telemetry_token(database, Settings(database_url=database.url, var_dir=tmp_path))
    token = telemetry_token(Settings(database_url=database.url, var_dir=tmp_path))
    url = f"http://127.0.0.1:{free_port()}"
    pusher = pusher_for(app, url, tmp_path)
    caplog.clear()  # what the token's set-up logged
    with caplog.at_level(logging.WARNING, logger="spacecraft.telemetry"):
        assert pusher.run_once() == 0
        assert pusher.run_once() == 0
    pusher.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "spacecraft.telemetry"]
    assert len(messages) == 2 and all(f"push to {url}" in m and "failed" in m for m in messages)
    assert token and not any(token in m for m in messages)


def test_a_refused_token_is_logged_with_the_status(app, database, ground, tmp_path, caplog):
    pusher = pusher_for(app, ground, tmp_path, telemetry_token="mc_" + "x" * 40)
    with caplog.at_level(logging.WARNING, logger="spacecraft.telemetry"):
        assert pusher.run_once() == 0
    pusher.stop()
    assert "HTTP 401" in caplog.records[0].getMessage()


def test_without_any_token_nothing_is_pushed_and_it_says_how_to_get_one(app, tmp_path, caplog):
    pusher = pusher_for(app, "http://127.0.0.1:9", tmp_path)
    with caplog.at_level(logging.WARNING, logger="spacecraft.telemetry"):
        assert pusher.run_once() == 0
    pusher.stop()
    assert "mc-migrate" in caplog.records[0].getMessage()


def test_only_one_process_of_a_checkout_pushes(app, tmp_path):
    first = pusher_for(app, "http://127.0.0.1:9", tmp_path)
    second = pusher_for(app, "http://127.0.0.1:9", tmp_path)
    try:
        assert first.holds_lock() and not second.holds_lock()
        first.stop()
        assert second.holds_lock()
    finally:
        second.stop()


def _state(heater_on: bool, solar: bool) -> StateReport:
    return StateReport(heater_on=heater_on, attitude=Attitude(roll=0, pitch=0, yaw=0),
                       solar_array_deployed=solar, images_captured=0, boot_count=0,
                       updated_at=utcnow(), commands=CommandCounts(received=0, executed=0,
                                                                   failed=0))


def test_the_heater_warms_and_the_solar_array_charges(app):
    rng, start = random.Random(3), utcnow()
    warm, cold = Simulation(), Simulation()
    for minutes in range(0, 20):
        at = start + timedelta(minutes=minutes)
        warm.step(_state(heater_on=True, solar=True), at, rng)
        cold.step(_state(heater_on=False, solar=False), at, rng)
    assert warm.temperature > 18 and cold.temperature < 0
    assert warm.battery > 80 > cold.battery


def test_without_a_usable_var_dir_each_process_pushes_and_says_so(app, tmp_path, caplog):
    not_a_directory = tmp_path / "var"
    not_a_directory.write_text("")
    pusher = pusher_for(app, "http://127.0.0.1:9", tmp_path, var_dir=not_a_directory)
    with caplog.at_level(logging.WARNING, logger="spacecraft.telemetry"):
        assert pusher.holds_lock()
    pusher.stop()
    assert "without the lock" in caplog.records[0].getMessage()
