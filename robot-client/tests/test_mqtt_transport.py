"""``--transport mqtt``: without MQTT_URL robot-client stops before asking anything; a
heartbeat becomes a status and a telemetry message on the robot's topics (through the
machine's Mosquitto at 127.0.0.1:1883); while the broker is not connected, a heartbeat is
Unavailable (the engine backs off and buffers, as over HTTP)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import uuid

import pytest

from mission_control import mqtt
from robot_client.mqtt_publisher import Publisher
from robot_client.server import Unavailable
from robot_client.testing import BIN
from tests.e2e.harness import free_port, wait_for
from tests.e2e.mqtt_broker import SHARED_BROKER, Publisher as Watcher, shared_broker_or_skip


def test_without_mqtt_url_the_mqtt_transport_stops_at_once():
    env = {key: value for key, value in os.environ.items() if key != "MQTT_URL"}
    for args in (["run", str(uuid.uuid4()), "--transport", "mqtt"],
                 ["fleet", "--count", "1", "--transport", "mqtt"]):
        result = subprocess.run([str(BIN / "robot-client"), *args], env=env, text=True,
                                capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 2, result.stderr
        assert "--transport mqtt needs MQTT_URL" in result.stderr


def test_a_heartbeat_is_published_as_status_and_telemetry():
    shared_broker_or_skip()
    robot_id = str(uuid.uuid4())
    received: queue.Queue = queue.Queue()
    watcher = Watcher(SHARED_BROKER[1], None, None)
    watcher.client.on_message = lambda client, userdata, message: received.put(
        (message.topic, json.loads(message.payload)))
    watcher.client.subscribe(f"robots/{robot_id}/#")
    publisher = Publisher(mqtt.parse_url("mqtt://127.0.0.1:1883"), "test")
    publisher.start()
    try:
        def sent() -> bool:
            try:
                publisher.heartbeat(robot_id, {"status": "IDLE", "modules": [],
                                               "telemetry": {"battery": 50.0}})
                return True
            except Unavailable:  # not connected yet
                return False

        wait_for(sent, timeout=10, message="the publisher connected")
        messages = dict(received.get(timeout=10) for _ in range(2))
        assert messages == {f"robots/{robot_id}/status": {"status": "IDLE", "modules": []},
                            f"robots/{robot_id}/telemetry": {"battery": 50.0}}
    finally:
        publisher.stop()
        watcher.close()


def test_a_heartbeat_while_the_broker_is_away_is_unavailable():
    publisher = Publisher(mqtt.parse_url(f"mqtt://127.0.0.1:{free_port()}"), "test")
    publisher.start()  # nothing listens there: it keeps trying in the background
    try:
        with pytest.raises(Unavailable, match="not connected"):
            publisher.heartbeat(str(uuid.uuid4()), {"status": "IDLE", "modules": []})
    finally:
        publisher.stop()
