"""Bodies of the authentication and user API (auth_api.py), validated before any domain call."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from .auth import MAX_TOKEN_TTL_S
from .users import MAX_PASSWORD, MIN_PASSWORD, password_problem, username_problem
from .validation import PlainText, WholeNumber

Role = Literal["viewer", "operator", "admin"]


class NewToken(BaseModel):
    """Body of POST /api/auth/tokens: sign in and get a bearer token."""

    model_config = ConfigDict(extra="forbid")

    username: PlainText = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    label: PlainText | None = Field(None, min_length=1, max_length=100)
    expires_in_s: WholeNumber | None = Field(None, ge=1, le=MAX_TOKEN_TTL_S,
                                             description="seconds; no expiry when omitted")


def _check(problem: str | None, value: str) -> str:
    if problem:
        raise ValueError(problem)
    return value


class NewUser(BaseModel):
    """Body of POST /api/users."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
    password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
    role: Role = "viewer"

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return _check(username_problem(value), value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        return _check(password_problem(value), value)


class UserChange(BaseModel):
    """Body of PATCH /api/users/{id}: any of role, disabled, password."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: StrictBool | None = None
    password: str | None = Field(None, min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
