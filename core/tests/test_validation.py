"""How refused input is described: one clear message per field, the same in every service."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from mission_control.validation import PlainText, field_errors


class Named(BaseModel):
    name: Annotated[PlainText, Field(min_length=1, max_length=8)]
    tags: list[int] = Field(default_factory=list, max_length=2)


def errors_of(data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as raised:
        Named.model_validate(data)
    return field_errors(raised.value, "body")


def test_a_too_long_plain_text_field_counts_characters():
    assert errors_of({"name": "x" * 9}) == [
        {"field": "name", "message": "must be at most 8 characters long"}]


def test_an_empty_plain_text_field_is_called_empty():
    assert errors_of({"name": ""}) == [{"field": "name", "message": "must not be empty"}]


def test_a_list_keeps_pydantics_own_words():
    [error] = errors_of({"name": "ok", "tags": [1, 2, 3]})
    assert error["field"] == "tags" and "at most 2 items" in error["message"]


@pytest.mark.parametrize("value, message", [("a\x1bb", "control characters"),
                                            ("a\ud800", "valid Unicode")])
def test_text_no_database_can_store_is_refused_with_the_reason(value, message):
    [error] = errors_of({"name": value})
    assert error["field"] == "name" and message in error["message"]
