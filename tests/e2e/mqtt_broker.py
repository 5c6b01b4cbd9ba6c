"""A Mosquitto broker of a test's own (``/usr/sbin/mosquitto``) with the project's password
file and ACL (mission_control.broker_files), on a free loopback port; and a small publisher
that signs in as anyone, as a robot (or an intruder) would."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mission_control import broker_files

from .harness import free_port

MOSQUITTO = os.environ.get("MOSQUITTO", "/usr/sbin/mosquitto")
SHARED_BROKER = ("127.0.0.1", 1883)  # the machine's Mosquitto (anonymous allowed)


def _skip(reason: str) -> None:
    """Skip, or fail under CI=true (.ci/run installs and starts Mosquitto)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def mosquitto_or_skip() -> str:
    found = shutil.which(MOSQUITTO)
    if found is None:
        _skip(f"{MOSQUITTO} is missing (Debian package mosquitto)")
    return found


def shared_broker_or_skip() -> None:
    try:
        socket.create_connection(SHARED_BROKER, timeout=2).close()
    except OSError:
        _skip("no MQTT broker answers at 127.0.0.1:1883 (Debian package mosquitto)")


@dataclass
class Broker:
    process: subprocess.Popen
    port: int
    config_path: Path
    log_path: Path

    def url(self, username: str, password: str) -> str:
        return f"mqtt://{username}:{password}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)

    def restart(self) -> None:
        """Stop it and start it again on the same port with the same files."""
        self.stop()
        self.process = _launch(self.config_path, self.log_path)
        _wait_listening(self)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_broker(directory: Path, users: dict[str, str], gateway_users=()) -> Broker:
    """Mosquitto with a password file holding ``users`` (name -> password) and the ACL,
    anonymous sign-in refused; it is listening when this returns."""
    mosquitto_or_skip()
    directory.mkdir(parents=True, exist_ok=True)
    for username, password in users.items():
        broker_files.set_password(directory / "passwd", username, password)
    broker_files.write_private(directory / "acl",
                               broker_files.acl_text(gateway_users=tuple(gateway_users)))
    port = free_port()
    # `user`: the files are this user's, mode 0600; as root Mosquitto would otherwise switch
    # to the user "mosquitto" before reading them.
    (directory / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {directory / 'passwd'}\nacl_file {directory / 'acl'}\n"
        f"persistence false\nlog_dest stdout\nlog_type all\nuser {getpass.getuser()}\n")
    broker = Broker(_launch(directory / "mosquitto.conf", directory / "mosquitto.log"), port,
                    directory / "mosquitto.conf", directory / "mosquitto.log")
    _wait_listening(broker)
    return broker


def _launch(config_path: Path, log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([mosquitto_or_skip(), "-c", str(config_path)], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _wait_listening(broker: Broker) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", broker.port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or broker.process.poll() is not None:
                broker.stop()
                raise RuntimeError(f"mosquitto did not start:\n{broker.log()[-2000:]}")
            time.sleep(0.05)


class Publisher:
    """A connected MQTT 5 client; ``refusal`` is the broker's CONNACK reason when it refused."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                                  client_id=f"test-{uuid.uuid4().hex[:12]}")
        self.client.reconnect_delay_set(60, 60)  # a refused client stays refused in the test
        if username is not None:
            self.client.username_pw_set(username, password)
        self.answered = threading.Event()
        self.refusal = None
        self.acks: dict[int, object] = {}
        self.client.on_connect = self._connected
        self.client.on_publish = self._acknowledged
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()
        if not self.answered.wait(10):
            raise TimeoutError("the broker did not answer the connection")

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        self.refusal = reason_code if reason_code.is_failure else None
        self.answered.set()

    def _acknowledged(self, client, userdata, mid, reason_code, properties) -> None:
        self.acks[mid] = reason_code

    def publish(self, topic: str, body) -> str:
        """Publish at QoS 1; the broker's PUBACK reason ("Success", "Not authorized", ...)."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = self.client.publish(topic, payload, qos=1)
        sent.wait_for_publish(10)
        return str(self.acks.pop(sent.mid))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
