"""Field types of the registry's request bodies: strict, bounded, and safe to store as given.

Strict numbers and strings: what the OpenAPI document calls an integer is never accepted as
"80", so the documented schema and the validation agree exactly.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import (
    BeforeValidator, EmailStr, Field, StrictFloat, StrictInt, WithJsonSchema,
)

from mission_control.validation import PlainText, Timestamp, whole_float_as_int

__all__ = ["Timestamp"]  # with the field types below; one rule for times, in the core


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

