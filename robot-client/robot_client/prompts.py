"""Interactive forms: each question asked on the terminal (secrets by getpass, never echoed),
the answers sent to registry-api, and every answer it refuses asked again with its reason."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any, Callable

from .registry import RegistryError


@dataclass(frozen=True)
class Question:
    field: str  # the registry's field name
    prompt: str
    secret: bool = False
    twice: bool = False  # a new password: typed twice
    required: bool = False  # refused here when empty (the registry would take none)
    integer: bool = False
    default: str | None = None


ROBOT = (
    Question("name", "Robot name"),
    Question("owner", "Owner"),
    Question("owner_email", "Owner's email"),
    Question("network_ssid", "Network SSID (empty: none)"),
    Question("network_password", "Network password (empty: none)", secret=True),
    Question("password", "Robot password", secret=True, twice=True, required=True),
    Question("ip_address", "IP address", default="127.0.0.1"),
    Question("port", "Port (empty: no module listener)", integer=True),
)
MODULE = (
    Question("name", "Module name"),
    Question("type", "Module type"),
)


def ask(prompt: str) -> str:
    return input(prompt).strip()


def answer(question: Question) -> Any:
    """One answer; None for an empty optional one. EOF and Ctrl-C pass up."""
    while True:
        if question.secret:
            value = getpass.getpass(f"{question.prompt}: ")
            if question.twice and value and getpass.getpass(f"Repeat {question.prompt.lower()}: ") \
                    != value:
                print("The two entries differ; type it again.")
                continue
        else:
            shown = f" [{question.default}]" if question.default else ""
            value = ask(f"{question.prompt}{shown}: ") or (question.default or "")
        if not value:
            if question.required:
                print(f"{question.prompt}: an answer is needed.")
                continue
            return None
        if question.integer:
            try:
                return int(value)
            except ValueError:
                return value  # the registry says what it takes
        return value


def fill(questions: tuple[Question, ...], submit: Callable[[dict[str, Any]], dict[str, Any]],
         **fixed: Any) -> dict[str, Any]:
    """Ask ``questions``, then ``submit`` the answers (with ``fixed`` fields); each field the
    registry refuses (422 per field, 409 a taken name) is asked again with its reason."""
    by_field = {q.field: q for q in questions}
    answers = {q.field: answer(q) for q in questions}
    while True:
        body = {**fixed, **{k: v for k, v in answers.items() if v is not None}}
        try:
            return submit(body)
        except RegistryError as error:
            refused = [(f.get("field", ""), f.get("message", "")) for f in error.fields]
            if error.status == 409 and not refused and "name" in by_field:
                refused = [("name", str(error))]
            refused = [(name, message) for name, message in refused if name in by_field]
            if error.status not in (409, 422) or not refused:
                raise
            for name, message in refused:
                print(f"{by_field[name].prompt}: {message}")
                answers[name] = answer(by_field[name])
