"""Field types of the registry's request bodies: strict, bounded, and safe to store as given.

Strict numbers and strings: what the OpenAPI document calls an integer is never accepted as
"80", so the documented schema and the validation agree exactly.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import (
    BeforeValidator, EmailStr, Field, StrictFloat, StrictInt, WithJsonSchema,
)

from mission_control.validation import PlainText, whole_float_as_int


# The pattern only documents what PlainText refuses (control characters; lone surrogates
# cannot be written in a JSON schema pattern), so clients and the fuzzer know it; PlainText's
# own check gives the friendlier message.
Text = Annotated[PlainText, Field(json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f]*$"})]
Name = Annotated[Text, Field(min_length=1, max_length=100)]
Description = Annotated[Text, Field(max_length=2000)]
ShortText = Annotated[Text, Field(min_length=1, max_length=100)]
Kind = Annotated[Text, Field(min_length=1, max_length=50)]
Secret = Annotated[Text, Field(min_length=1, max_length=128)]
Ssid = Annotated[Text, Field(min_length=1, max_length=32)]
def _any_case(name: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name)


# EmailStr (email-validator) refuses special-use domains (.test, .local, .invalid, ...); the
# pattern states that rule in the OpenAPI document, so clients and the fuzzer know it.
_SPECIAL_USE = "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)
Email = Annotated[EmailStr, Field(max_length=254, json_schema_extra={
    "pattern": f"^(?![^@]*@(?:.*\\.)?(?:{_SPECIAL_USE})\\.?$)"})]
Status = Literal["IDLE", "RUNNING", "FAILED"]


Port = Annotated[StrictInt, Field(ge=1, le=65535), BeforeValidator(whole_float_as_int)]
Coordinate = Annotated[StrictFloat, Field(allow_inf_nan=False)]


def _ip_address(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an IPv4 or IPv6 address as a string")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address") from None
    if getattr(address, "scope_id", None):
        raise ValueError("must not carry an IPv6 zone id")
    return str(address)


IpAddress = Annotated[str, BeforeValidator(_ip_address), WithJsonSchema(
    {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
     "examples": ["10.0.0.12"]})]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _timestamp(value: Any) -> datetime:
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


Timestamp = Annotated[datetime, BeforeValidator(_timestamp), WithJsonSchema(
    {"type": "string", "format": "date-time", "examples": ["2026-11-23T10:00:00Z"]})]
