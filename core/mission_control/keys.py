"""The service secrets (UPLINK_KEY, SECRET_KEY): from the environment, or generated into
``var/`` on first use and read from there by every later process of the same checkout.

A generated file is written whole under a temporary name (mode 0600) and then linked to its
final name, which fails if another process got there first: then that process's key is used.
So concurrent first starts agree on one key and nobody reads a half-written file.
"""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile
from pathlib import Path

from .settings import Settings

UPLINK_KEY_FILE = "uplink-key"
SECRET_KEY_FILE = "secret-key"


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def write_secret_file(path: Path, value: str) -> bool:
    """Create ``path`` (mode 0600) holding ``value``; False when it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp creates it 0600
            handle.write(value + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def stored_or_new(path: Path) -> str:
    """The secret in ``path``, created first when there is none."""
    if not path.exists():
        write_secret_file(path, new_secret())
    value = path.read_text().strip()
    if not value:
        raise RuntimeError(f"{path} is empty; delete it to have a new secret generated")
    return value


_read: dict[Path, str] = {}  # a process reads each key file once (CSRF tokens need it often)


def _secret(configured, var_dir: Path, filename: str) -> str:
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    path = var_dir / filename
    if path not in _read:
        _read[path] = stored_or_new(path)
    return _read[path]


def uplink_key(settings: Settings) -> str:
    """The key the command-sender presents to every target's uplink."""
    return _secret(settings.uplink_key, settings.var_dir, UPLINK_KEY_FILE)


def secret_key(settings: Settings) -> str:
    """The key that signs the operator page's session data and CSRF tokens."""
    return _secret(settings.secret_key, settings.var_dir, SECRET_KEY_FILE)


def same_secret(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())
