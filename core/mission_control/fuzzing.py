"""Property-based fuzzing of a service from its own OpenAPI document (schemathesis), shared
by the services' fuzz tests; imported by tests, never by services.

Every documented operation gets generated requests, valid and invalid; every answer must be
documented, match its schema, and never be a 5xx (all of schemathesis' checks). Runs are
bounded and derandomized, so `make test` stays short and a failure repeats.
"""

from __future__ import annotations

from typing import Any, Callable

import schemathesis
from hypothesis import HealthCheck, settings


def openapi_schema(document: dict[str, Any]):
    """The schemathesis schema of a document built in-process (schemathesis' lazy fixture
    loader does not work with this pytest, so the app comes in as a fixture per test)."""
    return schemathesis.openapi.from_dict(document)


def bounded(max_examples: int) -> Callable:
    """The hypothesis settings of a fuzz test: ``max_examples`` per operation, repeatable."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
