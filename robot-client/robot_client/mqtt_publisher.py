"""``--transport mqtt``: heartbeats published to the MQTT broker (MQTT_URL) instead of POSTed
to robot-server (docs/robot-client.md, docs/mqtt.md). The session, the profile and the
command long polls stay on HTTP: robot-server records a robot's MQTT messages only while it
has an open session, and delivers commands only through the polls.

A heartbeat becomes two messages: ``robots/{id}/status`` (status and modules) and, when there
is a telemetry point, ``robots/{id}/telemetry``. paho-mqtt runs its network loop in a thread
of its own and reconnects with backoff; a heartbeat while the broker is away raises
``Unavailable``, so the engine buffers telemetry and backs off as it does over HTTP.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from mission_control import mqtt
from mission_control.settings import Settings

from .server import Unavailable

log = logging.getLogger(__name__)
KEEPALIVE_S = 30
RECONNECT_MAX_S = 10
STOP_WAIT_S = 5.0


class NoBroker(Exception):
    """``--transport mqtt`` without MQTT_URL."""


def broker_of(settings: Settings) -> mqtt.Broker:
    if settings.mqtt_url is None:
        raise NoBroker("--transport mqtt needs MQTT_URL (mqtt://host:1883; docs/mqtt.md)")
    return mqtt.parse_url(settings.mqtt_url)


class Publisher:
    """One connection to the broker; ``heartbeat`` publishes one robot's heartbeat (a robot's
    own connection, or a gateway's that publishes for a fleet)."""

    def __init__(self, broker: mqtt.Broker, name: str) -> None:
        self.broker = broker
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                                  client_id=f"{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(1, RECONNECT_MAX_S)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self._up = threading.Event()

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_S)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        """Whether the broker took the connection within ``timeout`` seconds."""
        return self._up.wait(timeout)

    def stop(self) -> None:
        """Send what is queued, then disconnect (blocks for a moment: call it off the loop)."""
        self._up.clear()  # a disconnection asked for: nothing lost to report
        self.client.disconnect()
        self.client.loop_stop()

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.broker, reason_code)
            return
        self._up.set()
        log.info("MQTT: connected to %s", self.broker)

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        if self._up.is_set():
            log.warning("MQTT: connection to %s lost (%s); reconnecting", self.broker,
                        reason_code)
        self._up.clear()

    def heartbeat(self, robot_id: str, body: dict[str, Any]) -> None:
        """Publish the heartbeat ``body`` (as POST /robots/{id}/heartbeat takes it);
        Unavailable while the broker is not connected."""
        if not self._up.is_set():
            raise Unavailable(f"MQTT broker {self.broker} not connected")
        status = {key: value for key, value in body.items() if key != "telemetry"}
        messages = [(mqtt.topic(robot_id, "status"), status)]
        if body.get("telemetry") is not None:
            messages.append((mqtt.topic(robot_id, "telemetry"), body["telemetry"]))
        for topic, payload in messages:
            sent = self.client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=0)
            if sent.rc != paho.MQTT_ERR_SUCCESS:
                raise Unavailable(f"MQTT publish on {topic}: {paho.error_string(sent.rc)}")
