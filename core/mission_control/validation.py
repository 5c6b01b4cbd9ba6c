"""What text any input may carry, and how a refused input is described: the same in every
service, one message per field.

Kept apart from web.py so the domain (the command catalog) and the page's forms apply the same
rules and describe their refusals exactly as the JSON APIs do, without importing any HTTP.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator, BeforeValidator, StrictInt, ValidationError, WithJsonSchema,
)

FieldError = dict[str, str]

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Lone UTF-16 surrogates parse from JSON ("\\ud800") but cannot be encoded as UTF-8: neither
# database driver can store them, nor can a response or a log line carry them.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or echoed as plain text, or None when it can."""
    if _CONTROL_CHARACTERS.search(value):
        return "must not contain control characters"
    if not value.isascii() and _SURROGATES.search(value):
        return "must be valid Unicode text"
    return None


def plain_text(value: str) -> str:
    """``value`` if it is plain text; ValueError (a field error, in a pydantic model) if not."""
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A string field that refuses what no database or header can carry: control characters
# (PostgreSQL cannot store NUL in text; an ESC breaks a cookie) and lone surrogates.
PlainText = Annotated[str, AfterValidator(plain_text)]


def whole_float_as_int(value: Any) -> Any:
    # JSON Schema (and so the OpenAPI documents) counts 500.0 as an integer; "500" and true
    # are not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer field that also takes a whole number written as a float (500.0), as the documents
# promise; strings, booleans and fractions stay refused.
WholeNumber = Annotated[StrictInt, BeforeValidator(whole_float_as_int)]


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def timestamp(value: Any) -> datetime:
    """An RFC 3339 date-time with a UTC offset (or an aware datetime), in UTC; ValueError
    (a field error, in a pydantic model) for anything else."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        parsed = value
    elif isinstance(value, str) and _RFC3339.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("is not a valid date-time") from None
    else:
        raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2026-11-23T10:00:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Timestamp = Annotated[datetime, BeforeValidator(timestamp), WithJsonSchema(
    {"type": "string", "format": "date-time", "examples": ["2026-11-23T10:00:00Z"]})]


def field_errors(error: ValidationError, where: str) -> list[FieldError]:
    """``[{"field": "position.x", "message": ...}]``; an error of the whole input is named
    ``where`` ("body", "query", "args", "form")."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or where, "message": _message(e)}
            for e in error.errors(include_url=False)]


def _message(error: dict) -> str:
    # A length limit on a PlainText field is checked after its validator, where pydantic no
    # longer knows it is a string and speaks of "items": say characters.
    if error["type"] in ("too_long", "too_short") and isinstance(error.get("input"), str):
        context = error.get("ctx", {})
        if error["type"] == "too_long":
            return f"must be at most {context.get('max_length')} characters long"
        if context.get("min_length") == 1:
            return "must not be empty"
        return f"must be at least {context.get('min_length')} characters long"
    return error["msg"]


def summary(fields: list[FieldError]) -> str:
    """The fields' messages as one line: ``"pitch: Input should be ...; yaw: ..."``."""
    return "; ".join(f"{f['field']}: {f['message']}" for f in fields)
