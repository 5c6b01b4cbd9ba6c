"""Fixtures for the end-to-end suite: real processes, real database (both backends); or, with
MC_E2E_STACK=1, one running stack shared by every test (see stack.py and README.md here).

Tests ask for the same fixtures in both modes: ``system_factory`` (settings are applied in
local mode only; a stack has its own), ``credentials``, ``users``, and ``database`` only when
they look into the database. Tests that need their own processes or settings are marked
``local_only`` and skipped against a stack.
"""

from __future__ import annotations

import os

import pytest

from .accounts import Account, Credentials, retire
from .harness import start_system
from .stack import StackConfigError, connect, stack_mode

STACK = stack_mode()


@pytest.fixture
def users(credentials) -> dict[str, Account]:
    """The users of the test's systems by role: ``users["viewer"].username``, ``.password``
    (to sign in on a page), ``.token`` once a system with ground or registry-api started."""
    return credentials.users


@pytest.fixture
def private_database(request):
    """The test's own database, for checks over all of it (local mode); None against a
    shared stack, where other runs' rows are there too."""
    return None if STACK else request.getfixturevalue("database")


if STACK:
    @pytest.fixture(scope="session")
    def stack_system():
        """The running stack, once it answers; the run's users are retired at the end."""
        try:
            system = connect()
        except StackConfigError as error:
            pytest.fail(str(error), pytrace=False)
        for url in (system.ground_url, system.spacecraft_url, system.registry_url):
            system.wait_healthy(url, timeout=system.max_wait_s)
        yield system
        retire(system.ground_url, system.credentials)

    @pytest.fixture
    def credentials(stack_system) -> Credentials:
        """The stack's ADMIN_PASSWORD and UPLINK_KEY, and the run's operator and viewer."""
        return stack_system.credentials

    @pytest.fixture
    def system_factory(stack_system):
        """The stack, whatever the settings asked for: they are the stack's own."""
        return lambda **settings: stack_system

    @pytest.fixture
    def database():
        """The stack's database, when DATABASE_URL says where it is."""
        from mission_control.db import Database

        url = os.environ.get("DATABASE_URL")
        if not url:
            pytest.skip("looks into the database: set DATABASE_URL to the stack's to run it")
        database = Database(url)
        yield database
        database.dispose()
else:
    @pytest.fixture
    def credentials() -> Credentials:
        """The test's secrets (ADMIN_PASSWORD, UPLINK_KEY, SECRET_KEY) and users, random."""
        return Credentials()

    @pytest.fixture
    def system_factory(database, tmp_path, credentials):
        """Start services with given settings: ``system_factory(max_transmit_delay_s=0)``;
        every system of a test has the test's credentials."""
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
        if "/e2e/" not in str(item.fspath):
            continue
        item.add_marker(pytest.mark.e2e)
        marker = item.get_closest_marker("local_only")
        if STACK and marker:
            why = marker.args[0] if marker.args else "needs its own processes or settings"
            item.add_marker(pytest.mark.skip(reason=f"local_only: {why}; not run against a "
                                                    "shared stack (MC_E2E_STACK=1)"))
