"""Fixtures for the end-to-end suite: real processes, real database (both backends)."""

from __future__ import annotations

import pytest

from .accounts import Account, Credentials
from .harness import start_system


@pytest.fixture
def credentials() -> Credentials:
    """The test's secrets (ADMIN_PASSWORD, UPLINK_KEY, SECRET_KEY) and users, random."""
    return Credentials()


@pytest.fixture
def users(credentials) -> dict[str, Account]:
    """The users of the test's systems by role: ``users["viewer"].username``, ``.password``
    (to sign in on a page), ``.token`` once a system with ground or registry-api started."""
    return credentials.users


@pytest.fixture
def system_factory(database, tmp_path, credentials):
    """Start services with given settings: ``system_factory(max_transmit_delay_s=0)``; every
    system of a test has the test's credentials."""
    systems = []

    def start(**settings):
        system = start_system(database.url, tmp_path, credentials=credentials, **settings)
        systems.append(system)
        return system

    yield start
    for system in systems:
        system.stop_all()


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
