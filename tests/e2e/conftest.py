"""Fixtures for the end-to-end suite: real processes, real database (both backends)."""

from __future__ import annotations

import pytest

from .harness import start_system


@pytest.fixture
def system_factory(database, tmp_path):
    """Start services with given settings: ``system_factory(max_transmit_delay_s=0)``."""
    systems = []

    def start(**settings):
        system = start_system(database.url, tmp_path, **settings)
        systems.append(system)
        return system

    yield start
    for system in systems:
        system.stop_all()


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
