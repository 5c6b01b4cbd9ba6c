"""Bodies and answers of the authentication and user API (auth_api.py): the models validate
requests and, as components, state them in the OpenAPI documents (auth_openapi.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, field_validator,
)

from .auth import MAX_TOKEN_TTL_S
from .openapi import PLAIN_TEXT_PATTERN
from .users import MAX_PASSWORD, MIN_PASSWORD, password_problem, username_problem
from .validation import PlainText, whole_float_as_int

Role = Literal["viewer", "operator", "admin"]
NO_CONTROL = {"pattern": PLAIN_TEXT_PATTERN}
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
# Constraints before the validator, so that the schema states them (minimum, maximum).
Seconds = Annotated[StrictInt, Field(ge=1, le=MAX_TOKEN_TTL_S), BeforeValidator(whole_float_as_int)]


def _password(value: str | None) -> str | None:
    problem = password_problem(value) if value is not None else None
    if problem:
        raise ValueError(problem)
    return value


class NewToken(BaseModel):
    """Body of POST /api/auth/tokens: sign in and get a bearer token."""

    model_config = ConfigDict(extra="forbid")

    username: PlainText = Field(min_length=1, max_length=200, json_schema_extra=NO_CONTROL)
    password: PlainText = Field(min_length=1, max_length=MAX_PASSWORD,
                                json_schema_extra=NO_CONTROL)
    label: PlainText | None = Field(None, min_length=1, max_length=100,
                                    json_schema_extra=NO_CONTROL)
    expires_in_s: Seconds | None = Field(None, description="seconds; no expiry when omitted")


class NewUser(BaseModel):
    """Body of POST /api/users."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)
    password: PlainText = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD,
                                json_schema_extra=NO_CONTROL)
    role: Role = "viewer"

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        problem = username_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    _check_password = field_validator("password")(_password)


class UserChange(BaseModel):
    """Body of PATCH /api/users/{id}: any of role, disabled, password."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: StrictBool | None = None
    password: PlainText | None = Field(None, min_length=MIN_PASSWORD, max_length=MAX_PASSWORD,
                                       json_schema_extra=NO_CONTROL)

    _check_password = field_validator("password")(_password)


# --- answers (documentation only) ---------------------------------------------------------

class TokenCreated(BaseModel):
    id: str
    token: str = Field(description="the bearer token; shown only in this answer")
    username: str
    role: Role
    expires_at: str | None


class TokenInfo(BaseModel):
    id: str
    label: str | None
    kind: Literal["api", "session"]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    user_id: str
    username: str


class TokenList(BaseModel):
    items: list[TokenInfo]


class Me(BaseModel):
    id: str
    username: str
    role: Role
    token_id: str


class UserOut(BaseModel):
    id: str
    username: str
    role: Role
    disabled: bool
    created_at: str
    updated_at: str


class UserList(BaseModel):
    items: list[UserOut]
