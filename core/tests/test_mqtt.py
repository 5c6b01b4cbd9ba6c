"""MQTT for robots in the core package: MQTT_URL read into a broker address (no password in
any message), the topics, Mosquitto's password-file format (checked against
``mosquitto_passwd`` itself) and ``mc-mqtt``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest
from pydantic import ValidationError

from mission_control import broker_files, mqtt
from mission_control.settings import Settings


def test_an_mqtt_url_gives_the_broker_and_never_shows_its_password():
    broker = mqtt.parse_url("mqtt://robot-server:p%40ss@broker.example:1884")
    assert (broker.host, broker.port, broker.tls) == ("broker.example", 1884, False)
    assert (broker.username, broker.password) == ("robot-server", "p@ss")
    assert str(broker) == "mqtt://robot-server@broker.example:1884"
    assert mqtt.parse_url("mqtts://h").port == 8883 and mqtt.parse_url("mqtts://h").tls
    assert mqtt.parse_url("mqtt://h").with_credentials("r1", "pw").username == "r1"
    assert broker.with_credentials("r1", "pw") == broker  # the URL's user wins (a gateway)


@pytest.mark.parametrize("url", ["http://h:1883", "mqtt://:1883", "mqtt://u:secret@h:99999",
                                 "mqtt://u:secret@h:port"])
def test_a_bad_mqtt_url_is_refused_at_start_without_echoing_it(url):
    with pytest.raises(ValidationError) as raised:
        Settings(mqtt_url=url)
    assert "secret" not in str(raised.value.errors()[0]["msg"])


def test_an_empty_mqtt_url_means_no_broker():
    assert Settings(mqtt_url="").mqtt_url is None
    assert Settings(mqtt_share_group="").mqtt_share_group == ""
    with pytest.raises(ValidationError):
        Settings(mqtt_share_group="a/b")


def test_topics_and_subscriptions():
    assert mqtt.topic("r1", "status") == "robots/r1/status"
    with pytest.raises(ValueError):
        mqtt.topic("r1", "commands")
    assert mqtt.parse_topic("robots/r1/telemetry") == ("r1", "telemetry")
    assert mqtt.parse_topic("robots/r1/status/x") is None
    assert mqtt.parse_topic("robots/+/status") == ("+", "status")  # not a UUID: refused later
    assert mqtt.subscriptions("g") == ["$share/g/robots/+/status", "$share/g/robots/+/telemetry"]
    assert mqtt.subscriptions("") == ["robots/+/status", "robots/+/telemetry"]


def test_password_lines_are_mosquittos_own(tmp_path):
    hashed = broker_files.hash_password("s3cret")
    assert hashed.startswith("$7$101$") and broker_files.matches(hashed, "s3cret")
    assert not broker_files.matches(hashed, "other")
    assert not broker_files.matches("$6$x$y", "s3cret")
    assert broker_files.hash_password("s3cret") != hashed  # a new salt each time
    program = shutil.which("mosquitto_passwd")
    if program is None:
        pytest.skip("mosquitto_passwd is missing (Debian package mosquitto)")
    path = tmp_path / "theirs"
    subprocess.run([program, "-c", "-b", str(path), "alice", "s3cret"], check=True, timeout=30)
    assert broker_files.matches(broker_files.read_entries(path)["alice"], "s3cret")


def test_usernames_that_would_break_the_file_are_refused(tmp_path):
    for username in ("", "a:b", "a\nb", " a"):
        with pytest.raises(ValueError):
            broker_files.set_password(tmp_path / "passwd", username, "pw")
    with pytest.raises(ValueError):
        broker_files.set_password(tmp_path / "passwd", "robot", "")
    assert not (tmp_path / "passwd").exists()


def mc_mqtt(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mission_control.mqtt_cli", *args],
                          input=stdin, text=True, capture_output=True, timeout=60,
                          env=os.environ.copy())


def test_mc_mqtt_adds_changes_and_removes_users_and_writes_the_acl(tmp_path):
    path = tmp_path / "passwd"
    assert "added r1" in mc_mqtt("passwd", str(path), "r1", "--stdin", stdin="one\n").stdout
    assert "added r2" in mc_mqtt("passwd", str(path), "r2", "--stdin", stdin="two\n").stdout
    assert "changed r1" in mc_mqtt("passwd", str(path), "r1", "--stdin", stdin="uno\n").stdout
    entries = broker_files.read_entries(path)
    assert list(entries) == ["r1", "r2"] and broker_files.matches(entries["r1"], "uno")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "uno" not in path.read_text()

    assert mc_mqtt("delete", str(path), "r2").returncode == 0
    missing = mc_mqtt("delete", str(path), "r2")
    assert missing.returncode == 1 and "no user r2" in missing.stderr
    assert list(broker_files.read_entries(path)) == ["r1"]

    refused = mc_mqtt("passwd", str(path), "a:b", "--stdin", stdin="x\n")
    assert refused.returncode == 2 and "colon" in refused.stderr

    acl = tmp_path / "acl"
    assert mc_mqtt("acl", str(acl), "--gateway-user", "fleet").returncode == 0
    text = acl.read_text()
    assert "user robot-server\ntopic read robots/+/status\ntopic read robots/+/telemetry" in text
    assert "user fleet\ntopic write robots/+/status" in text
    assert text.rstrip().endswith("pattern readwrite robots/%u/#")
