"""One log format for every service and command: one line per event (docs/observability.md).

Each line holds one timestamp (ISO 8601, UTC, milliseconds), the level, the service, the
logger, the message and the ids that matter as fields: ``request_id`` (from the request
being served, see ``bind_request_id``), ``command_id``, ``user``, ``worker_id`` and whatever
else a call passes in ``extra={...}``.

LOG_FORMAT=text: ``2026-11-25T19:02:23.123Z INFO ground mission_control.access: request
method=GET ... request_id=4f2a...``; LOG_FORMAT=json: one JSON object per line with the same
keys. Control characters in a message or value can never split a line or forge one: the text
form escapes them (``\\n``), JSON escapes them by itself (and all non-ASCII, so no line
separator such as U+2028 reaches the file raw either).

JSON comes from ``json.dumps`` in the same Formatter as text, not from python-json-logger:
both forms share one list of fields and one timestamp, and it is twenty lines, not a
dependency.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

LOG_FORMATS = ("text", "json")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                         default=None)

# What every LogRecord has; anything else on a record came from ``extra`` (a field).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_QUOTES = re.compile(r'[\s"=\\]')
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(given: str | None) -> str:
    """A client's request id (X-Request-ID) when it is 1 to 64 characters of
    [A-Za-z0-9._:-], else a new one."""
    if given is not None and _VALID_REQUEST_ID.fullmatch(given):
        return given
    return new_request_id()


def bind_request_id(request_id: str | None) -> None:
    """The request id of what this thread (or task) does now; None when it is done."""
    _request_id.set(request_id)


def current_request_id() -> str | None:
    return _request_id.get()


def escape(text: str) -> str:
    """``text`` with every control character written out (``\\n``, ``\\x1b``, ``\\u2028``)."""
    return _UNSAFE.sub(lambda m: _NAMED.get(m.group()) or (
        f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"),
        text)


def text_value(value: Any) -> str:
    """A field's value in the text form: escaped, and quoted when it holds a space, quote,
    equals sign or backslash (so it cannot pass for another field)."""
    if not isinstance(value, str):
        value = json.dumps(value, default=str, separators=(",", ":")) \
            if isinstance(value, (dict, list, tuple)) else str(value)
    if value and not _NEEDS_QUOTES.search(value):
        return escape(value)
    return '"' + escape(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'


class RequestIdFilter(logging.Filter):
    """Gives each record the request id bound to its thread, unless it names its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = _request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class LogFormatter(logging.Formatter):
    """One line per record, text (``key=value`` after the message) or JSON."""

    def __init__(self, service: str, log_format: str = "text") -> None:
        super().__init__()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"log format must be one of {LOG_FORMATS}")
        self.service = service
        self.json = log_format == "json"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items()
                  if key not in _RECORD_ATTRIBUTES and value is not None}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exception"] = record.exc_text
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        stamp, message = self.formatTime(record), record.getMessage()
        if self.json:
            return json.dumps({"time": stamp, "level": record.levelname, "service": self.service,
                               "logger": record.name, "message": message, **fields},
                              default=str)
        pairs = "".join(f" {escape(key)}={text_value(value)}" for key, value in fields.items())
        return (f"{stamp} {record.levelname} {self.service} {escape(record.name)}: "
                f"{escape(message)}{pairs}")


def handler(service: str, log_format: str, stream=None) -> logging.Handler:
    """A stream handler (stderr by default) writing the one format, request ids included."""
    result = logging.StreamHandler(stream or sys.stderr)
    result.setFormatter(LogFormatter(service, log_format))
    result.addFilter(RequestIdFilter())
    return result


def configure_logging(service: str, level: str = "INFO", log_format: str | None = None) -> None:
    """Send every record of this process to stderr in the one format; LOG_FORMAT by default."""
    if log_format is None:
        from .settings import get_settings
        log_format = get_settings().log_format
    root = logging.getLogger()
    root.handlers[:] = [handler(service, log_format)]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # a library's warning is a record too, not a raw stderr line


def gunicorn_config(service: str, level: str, log_format: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its own lines (booting, signals, errors) and the app's
    go through the same handler and format."""
    # gunicorn's access lines show the query string and no user: the app writes its own
    # (mission_control.access), so gunicorn.access stays silent.
    quiet = {"level": "CRITICAL", "handlers": [], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": {"()": LogFormatter, "service": service,
                                   "log_format": log_format}},
        "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                 "formatter": "default", "filters": ["request_id"]}},
        "root": {"level": level.upper(), "handlers": ["default"]},
        "loggers": {"gunicorn.error": {"level": level.upper(), "handlers": ["default"],
                                       "propagate": False},
                    "gunicorn.access": quiet},
    }
