"""A user's token for registry-api: MISSION_TOKEN, or a sign-in with a username and password
asked on the terminal (the password by getpass); for the fleet also the first admin's
password (ADMIN_PASSWORD, or the one mc-migrate generated into var/)."""

from __future__ import annotations

import getpass
import sys

from mission_control.settings import Settings
from mission_control.users import ADMIN_PASSWORD_FILE, FIRST_ADMIN

from .prompts import ask
from .registry import Registry, RegistryError, sign_in

ATTEMPTS = 3


class NoCredentials(Exception):
    """Neither a token nor a way to sign in."""


def token_from_terminal(url: str) -> str:
    for attempt in range(ATTEMPTS):
        username = ask("Username: ")
        password = getpass.getpass("Password: ")
        try:
            return sign_in(url, username, password)
        except RegistryError as error:
            if error.status not in (401, 422) or attempt == ATTEMPTS - 1:
                raise
            print(f"Sign-in refused: {error}")
    raise AssertionError("unreachable")


def registry(settings: Settings) -> Registry:
    """registry-api with MISSION_TOKEN, or with a token of a sign-in on the terminal."""
    if settings.mission_token is not None and settings.mission_token.get_secret_value():
        return Registry(settings.registry_url, settings.mission_token.get_secret_value())
    if not sys.stdin.isatty():
        raise NoCredentials("set MISSION_TOKEN (a user's token for registry-api), or run this "
                            "on a terminal to sign in")
    print(f"Sign in to registry-api at {settings.registry_url}")
    return Registry(settings.registry_url, token_from_terminal(settings.registry_url))


def admin_registry(settings: Settings) -> Registry:
    """As ``registry``, trying first the first admin's password (the fleet runs unattended)."""
    if settings.mission_token is None:
        password = settings.admin_password.get_secret_value() if settings.admin_password else ""
        stored = settings.var_dir / ADMIN_PASSWORD_FILE
        if not password and stored.exists():
            password = stored.read_text().strip()
        if password:
            return Registry(settings.registry_url,
                            sign_in(settings.registry_url, FIRST_ADMIN, password))
    return registry(settings)
