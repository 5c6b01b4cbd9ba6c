"""How a refused input is described, the same way in every service: one message per field.

Kept apart from web.py so the domain (the command catalog) and the page's forms describe
their refusals exactly as the JSON APIs do, without importing anything of HTTP.
"""

from __future__ import annotations

from pydantic import ValidationError

FieldError = dict[str, str]


def field_errors(error: ValidationError, where: str) -> list[FieldError]:
    """``[{"field": "position.x", "message": ...}]``; an error of the whole input is named
    ``where`` ("body", "query", "args", "form")."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or where, "message": e["msg"]}
            for e in error.errors(include_url=False)]


def summary(fields: list[FieldError]) -> str:
    """The fields' messages as one line: ``"pitch: Input should be ...; yaw: ..."``."""
    return "; ".join(f"{f['field']}: {f['message']}" for f in fields)
