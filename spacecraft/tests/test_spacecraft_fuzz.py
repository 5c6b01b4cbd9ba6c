"""Property-based fuzzing from the spacecraft's own OpenAPI document (schemathesis), on both
databases. A schema-valid request must be accepted: the one thing the document cannot say is
that a batch's ids are distinct, so generated duplicates are renamed. Requests carry the
uplink key; schemathesis' ignored_auth check makes sure it is needed where documented."""

from __future__ import annotations

import pytest

from mission_control.fuzzing import (
    call_and_validate, distinct_batch_ids, fuzz_schema, fuzz_settings,
)
from mission_control.testing import bearer
from spacecraft.openapi import openapi_document

from .conftest import UPLINK_KEY

MAX_EXAMPLES = 25
BATCH_MAX = 5  # small batches keep generated bodies small

schema = fuzz_schema(openapi_document(BATCH_MAX))


@pytest.fixture
def fuzz_app(make_app):
    return make_app(uplink_batch_max=BATCH_MAX)


@schema.parametrize()
@fuzz_settings(MAX_EXAMPLES)
def test_spacecraft_answers_match_its_openapi_document(case, fuzz_app):
    distinct_batch_ids(case)
    call_and_validate(case, fuzz_app, bearer(UPLINK_KEY))
