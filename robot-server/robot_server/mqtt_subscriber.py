"""robot-server's MQTT subscriber (docs/mqtt.md): with MQTT_URL set, each robot-server
process (each gunicorn worker of each replica) connects to the broker and subscribes to the
robots' topics as a member of one MQTT 5 shared-subscription group (MQTT_SHARE_GROUP,
``$share/robot-server/robots/+/status``). The broker hands each message to one member, so
the deployment ingests it once however many processes run, with no lease or leader to elect:
a process that stops leaves the group and the others take its share at once.

paho-mqtt runs its network loop in a thread of its own (``loop_start``); under gunicorn's
gevent worker that thread is a greenlet and its sockets are gevent's, so it waits without
blocking the process's long polls. When the broker goes away paho reconnects with an
exponential backoff (1 s doubling to RECONNECT_MAX_S) and the group is subscribed again on
each connection.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from mission_control import mqtt

from .mqtt_ingest import Ingest, shown

log = logging.getLogger(__name__)
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


class Subscriber:
    """``start()`` connects and subscribes in the background; ``stop()`` disconnects (under
    mc-serve: one per worker, app.extensions["background_tasks"])."""

    name = "mqtt-subscriber"

    def __init__(self, broker: mqtt.Broker, share_group: str, ingest: Ingest) -> None:
        self.broker = broker
        self.filters = mqtt.subscriptions(share_group)
        self.ingest = ingest
        client_id = f"robot-server-{socket.gethostname()[:40]}-{os.getpid()}-" \
                    f"{uuid.uuid4().hex[:8]}"
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv5)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.connected = False
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_S,
                                  clean_start=True)
        self.client.loop_start()  # connects, and reconnects, with retries

    def stop(self, timeout: float = 10) -> None:
        if not self._started:
            return
        self._started = False
        self.client.disconnect()
        self.client.loop_stop()

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s refused robot-server's connection: %s; trying again",
                        self.broker, reason_code)
            return
        self.connected = True
        client.subscribe([(f, SubscribeOptions(qos=0)) for f in self.filters])
        log.info("MQTT: connected to %s, subscribed to %s", self.broker, ", ".join(self.filters))

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected
        self.connected = False
        if self._started and was:
            log.warning("MQTT: connection to %s lost (%s); reconnecting with backoff up to "
                        "%ss", self.broker, reason_code, RECONNECT_MAX_S)

    def _message(self, client, userdata, message) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:  # MQTT requires UTF-8 topics; paho passes what came
            topic = message._topic.decode("utf-8", "backslashreplace")
        try:
            self.ingest.handle(topic, message.payload)
        except Exception:  # the database is away, say: this message is lost, the next comes
            log.exception("MQTT message on %s not recorded", shown(topic))
