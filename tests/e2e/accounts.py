"""Who the end-to-end services trust, and the users the tests act as.

A run's ``Credentials`` are random: the first admin's password (ADMIN_PASSWORD, which
mc-migrate uses to create ``admin``), UPLINK_KEY and SECRET_KEY, and the names and passwords of
an operator and a viewer. Against a running stack (stack mode) the admin password and the
uplink key come from the environment instead (``Credentials.from_environment``); the operator
and the viewer still get new random names, so runs never collide. Once the services answer, ``sign_up`` does what a person would: the
admin signs in with POST /api/auth/tokens and creates the other two with POST /api/users, and
each of them signs in for a bearer token. Nothing is written to the database behind the
services' back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import requests

ROLES = ("admin", "operator", "viewer")


@dataclass
class Account:
    """A user of the run: name, password, role, and (once signed in) a bearer token."""

    username: str
    password: str = field(repr=False)
    role: str
    token: str | None = field(default=None, repr=False)
    token_id: str | None = None
    user_id: str | None = None  # known once this run created the user

    @property
    def signed_in_token(self) -> str:
        if self.token is None:
            raise RuntimeError(f"{self.username} has not signed in (no ground or registry-api "
                               "in this system?)")
        return self.token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.signed_in_token}"}


def _secret() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Credentials:
    """The secrets of one run of the services, and its users by role."""

    admin_password: str = field(default_factory=_secret, repr=False)
    uplink_key: str = field(default_factory=_secret, repr=False)
    secret_key: str = field(default_factory=_secret, repr=False)
    users: dict[str, Account] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.users:
            self.users = {"admin": Account("admin", self.admin_password, "admin")}
            for role in ("operator", "viewer"):
                self.users[role] = Account(f"e2e-{role}-{secrets.token_hex(6)}", _secret(), role)

    @classmethod
    def from_environment(cls, environ) -> "Credentials":
        """A running stack's: ADMIN_PASSWORD and UPLINK_KEY as its services were given them
        (SECRET_KEY stays unknown: no test needs it there)."""
        return cls(admin_password=environ["ADMIN_PASSWORD"], uplink_key=environ["UPLINK_KEY"],
                   secret_key="")

    def env(self) -> dict[str, str]:
        """What every service of the run gets in its environment."""
        return {"ADMIN_PASSWORD": self.admin_password, "UPLINK_KEY": self.uplink_key,
                "SECRET_KEY": self.secret_key}

    def secrets(self) -> list[str]:
        """Every value no response body (but the token answer) and no log line may show."""
        values = [self.admin_password, self.uplink_key, self.secret_key]
        for account in self.users.values():
            values += [account.password] + ([account.token] if account.token else [])
        return values


def sign_in(base_url: str, account: Account) -> str:
    """POST /api/auth/tokens as ``account``; its new bearer token (also kept on it)."""
    response = requests.post(f"{base_url}/api/auth/tokens", timeout=30, json={
        "username": account.username, "password": account.password, "label": "e2e"})
    if response.status_code != 201:
        raise RuntimeError(f"{account.username} could not sign in at {base_url}: "
                           f"{response.status_code} {response.text[:300]}")
    account.token, account.token_id = response.json()["token"], response.json()["id"]
    return account.token


def sign_up(base_url: str, credentials: Credentials) -> None:
    """The admin signs in and creates the operator and the viewer (an existing one, from an
    earlier system on the same database, is fine), who then sign in too."""
    admin = credentials.users["admin"]
    sign_in(base_url, admin)
    for role in ("operator", "viewer"):
        account = credentials.users[role]
        response = requests.post(f"{base_url}/api/users", headers=admin.headers, timeout=30,
                                 json={"username": account.username,
                                       "password": account.password, "role": role})
        if response.status_code not in (201, 409):
            raise RuntimeError(f"creating {account.username}: {response.status_code} "
                               f"{response.text[:300]}")
        if response.status_code == 201:
            account.user_id = response.json()["id"]
        sign_in(base_url, account)


def retire(base_url: str, credentials: Credentials) -> None:
    """After a run against a shared stack: the admin revokes the tokens this run signed in for
    and disables the users it created (its own token last), so a long-lived stack keeps no
    usable leftovers of the run."""
    admin = credentials.users["admin"]
    if admin.token is None:
        return
    for account in [a for a in credentials.users.values() if a is not admin] + [admin]:
        if account.token_id:
            requests.delete(f"{base_url}/api/auth/tokens/{account.token_id}",
                            headers=admin.headers, timeout=30)
        if account.user_id:
            requests.patch(f"{base_url}/api/users/{account.user_id}", headers=admin.headers,
                           json={"disabled": True}, timeout=30)
        account.token = account.token_id = None
