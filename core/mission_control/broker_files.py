"""Mosquitto's password file and ACL for the robots' MQTT (docs/mqtt.md): the one place that
writes them, for ``mc-mqtt`` and for ``make up`` (deploy/make_mosquitto.py, which runs before
any virtualenv exists: standard library only, no import of the rest of the package).

Password lines are ``username:$7$101$<salt>$<hash>``, Mosquitto 2's own format
(PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt, base64), as ``mosquitto_passwd`` writes
them. The ACL binds each robot to its own topics: a robot signs in with its id as username,
and ``pattern readwrite robots/%u/#`` lets it publish under that id only, so robot-server can
trust the id in a topic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64
SERVER_USER = "robot-server"
FORBIDDEN_IN_USERNAME = (":", "\n", "\r", "\x00")


def hash_password(password: str, salt: bytes | None = None,
                  iterations: int = ITERATIONS) -> str:
    """``$7$...`` for ``password``, as Mosquitto 2 stores and checks it."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    derived = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations,
                                  HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"


def matches(stored: str, password: str) -> bool:
    """Whether a ``$7$`` hash is that of ``password`` (False for any other form)."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations = int(parts[2])
        salt, expected = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except ValueError:
        return False
    derived = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations,
                                  len(expected))
    return hmac.compare_digest(derived, expected)


def check_username(username: str) -> str:
    if not username or any(c in username for c in FORBIDDEN_IN_USERNAME) or \
            username != username.strip():
        raise ValueError("a broker username is not empty and has no colon, line break, NUL "
                         "or surrounding space")
    return username


def read_entries(path: Path) -> dict[str, str]:
    """username -> hash of a password file (empty when there is none)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    entries = {}
    for line in text.splitlines():
        username, colon, hashed = line.partition(":")
        if colon and not line.startswith("#"):
            entries[username] = hashed
    return entries


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` at once (a reader never sees half a file), with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)  # whatever the umask
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def set_password(path: Path, username: str, password: str, mode: int = 0o600) -> bool:
    """Add or update ``username``'s line; whether it was new. Other lines stay as they are."""
    entries = read_entries(path)
    new = check_username(username) not in entries
    if not password:
        raise ValueError("the password is empty")
    entries[username] = hash_password(password)
    write_private(path, "".join(f"{u}:{h}\n" for u, h in entries.items()), mode)
    return new


def delete_user(path: Path, username: str, mode: int = 0o600) -> bool:
    """Remove ``username``'s line; whether it was there."""
    entries = read_entries(path)
    if entries.pop(username, None) is None:
        return False
    write_private(path, "".join(f"{u}:{h}\n" for u, h in entries.items()), mode)
    return True


def acl_text(server_user: str = SERVER_USER, gateway_users: tuple[str, ...] = ()) -> str:
    """The ACL: robot-server reads every robot's topics; a gateway (the demo fleet) may
    publish for any robot; every other user (a robot, by its id) only under its own id."""
    lines = ["# Mission Control's Mosquitto ACL (docs/mqtt.md), written by mc-mqtt acl.",
             "# robot-server reads every robot's status and telemetry.",
             f"user {check_username(server_user)}",
             "topic read robots/+/status", "topic read robots/+/telemetry", ""]
    for gateway in gateway_users:
        lines += ["# a gateway publishing for many robots (robot-client fleet)",
                  f"user {check_username(gateway)}",
                  "topic write robots/+/status", "topic write robots/+/telemetry", ""]
    lines += ["# every robot signs in with its id as username: its own topics only",
              "pattern readwrite robots/%u/#", ""]
    return "\n".join(lines)
