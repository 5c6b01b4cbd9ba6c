"""MQTT for robots (docs/mqtt.md): the topics robots publish on, and MQTT_URL read into the
parts a client connects with. robot-server subscribes and robot-client publishes through
this one module, so the two never disagree on a topic.

Topics: ``robots/{id}/status`` carries the body of an HTTP heartbeat (status, modules,
telemetry), ``robots/{id}/telemetry`` a telemetry point alone (battery, temperature, cpu,
position). The broker's ACL binds ``robots/{username}/#`` to the robot signed in as that
username, so the id in a topic is the publisher's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

KINDS = ("status", "telemetry")
TOPIC_ROOT = "robots"
_TOPIC = re.compile(rf"^{TOPIC_ROOT}/([^/]+)/({'|'.join(KINDS)})$")
SCHEMES = {"mqtt": 1883, "mqtts": 8883}
MAX_PAYLOAD_BYTES = 64 * 1024


def topic(robot_id: str, kind: str) -> str:
    """``robots/{id}/{kind}`` for one of KINDS."""
    if kind not in KINDS:
        raise ValueError(f"unknown MQTT topic kind {kind!r}")
    return f"{TOPIC_ROOT}/{robot_id}/{kind}"


def subscriptions(share_group: str) -> list[str]:
    """The topic filters robot-server subscribes to: shared by ``share_group`` when given
    (``$share/group/robots/+/status``: each message goes to one member of the group)."""
    filters = [f"{TOPIC_ROOT}/+/{kind}" for kind in KINDS]
    return [f"$share/{share_group}/{f}" for f in filters] if share_group else filters


def parse_topic(name: str) -> tuple[str, str] | None:
    """``(robot id as written, kind)`` of a robot topic, or None for any other topic."""
    found = _TOPIC.match(name)
    return (found.group(1), found.group(2)) if found else None


@dataclass(frozen=True)
class Broker:
    """Where a client connects and as whom (from MQTT_URL)."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def with_credentials(self, username: str, password: str) -> Broker:
        """This broker as another user (a robot signing in with its id), unless the URL
        named a user already (a gateway publishing for many robots)."""
        if self.username:
            return self
        return Broker(self.host, self.port, self.tls, username, password)

    def __str__(self) -> str:
        """For logs: scheme, user and address, never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_url(url: str) -> Broker:
    """``mqtt://user:pass@host:port`` (or mqtts://, TLS) -> Broker; ValueError when it is
    not such a URL. The message never repeats the URL: it may hold a password."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError("MQTT_URL must start with mqtt:// or mqtts://")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise ValueError("MQTT_URL has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("MQTT_URL names no host")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return Broker(parts.hostname, port, parts.scheme == "mqtts", username, password)
