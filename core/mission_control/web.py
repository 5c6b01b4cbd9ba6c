"""HTTP plumbing shared by every Flask service: JSON errors, JSON bodies, health, API docs."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, TypeVar

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from . import access, headers, hosts, metrics
from .apidocs import docs_blueprint
from .db import Database
from .logs import configure_logging
from .passwords import HashingBusy
from .settings import Settings, get_settings
from .validation import FieldError, field_errors, summary, text_problem

log = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)


class ApiError(Exception):
    """An error the client caused, answered as ``{"error", "message", ...}`` with ``status``."""

    def __init__(self, status: int, error: str, message: str, /, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra


def error_response(status: int, error: str, message: str, /, **extra: Any) -> Response:
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    return response


def retry_later(status: int, error: str, message: str, retry_after_s: int, /,
                **extra: Any) -> Response:
    """An error the client may retry after ``retry_after_s`` (429, 503): with Retry-After."""
    response = error_response(status, error, message, **extra)
    response.headers["Retry-After"] = str(retry_after_s)
    return response


_HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                     409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
                     422: "validation_error"}


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as JSON: ours, werkzeug's (404, 405, 413) and unexpected ones (500)."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.error, error.message, **error.extra)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code == 413:
            message = f"request body is larger than {request.max_content_length} bytes"
        else:
            message = error.description or error.name
        response = error_response(error.code or 500,
                                  _HTTP_ERROR_CODES.get(error.code,
                                                        error.name.lower().replace(" ", "_")),
                                  message)
        for name, value in error.get_headers():  # e.g. Allow on a 405 (RFC 9110)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(hosts.BadHost)
    def _bad_host(error: hosts.BadHost):
        return error_response(400, "bad_host", str(error))

    @app.errorhandler(HashingBusy)
    def _hashing_busy(error: HashingBusy):
        return retry_later(503, "busy", str(error), 1)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        return error_response(503, "database_unavailable",
                              "the database is unavailable; try again shortly")

    @app.errorhandler(PoolTimeout)
    def _no_free_connection(error: PoolTimeout):
        # Every pooled connection (DB_POOL_SIZE) stayed taken for the pool's timeout: an
        # overload, not a fault of the request, and nothing was written. Under a fleet's
        # storm this was a 500.
        log.warning("no free database connection on %s %s: %s", request.method, request.path,
                    error)
        return retry_later(503, "busy", "the server is busy; try again shortly", 1)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed; see its log")


INT64_MAX = 2**63 - 1  # the widest integer both databases (and their drivers) accept


def plain_header(name: str, default: str | None = None, max_length: int = 200) -> str | None:
    """A header's value, or ApiError 422 when it is empty, too long or holds control characters."""
    value = request.headers.get(name)
    if value is None:
        return default
    value = value.strip()
    if not value or len(value) > max_length or text_problem(value):
        raise ApiError(422, "validation_error",
                       f"{name} must be 1 to {max_length} printable characters")
    return value


def request_body() -> bytes:
    """The raw request body, at most MAX_BODY_BYTES; ApiError 413 when larger, 400 when the
    server cannot read it.

    Werkzeug reads a body that has no Content-Length (chunked) only up to the limit and
    silently stops there, so an oversized body would look like a truncated one. One byte
    more from the server's stream tells the two apart. Read this before ``request.form``:
    the form is then parsed from the same cached bytes.
    """
    limit = request.max_content_length
    try:
        data = request.get_data(cache=True)
        oversized = (request.content_length is None and limit is not None
                     and len(data) >= limit and request.environ["wsgi.input"].read(1))
    except HTTPException:
        raise
    except Exception:  # the server's reader gave up: bad chunked framing, or the body ended early
        raise ApiError(400, "malformed_body", "the request body could not be read: its "
                       "chunked encoding is broken or it ended early") from None
    if oversized:
        raise ApiError(413, "payload_too_large", f"request body is larger than {limit} bytes")
    return data


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A JSON object naming a key twice is ambiguous (which "confirm" did the client mean?):
    # refused rather than letting the last one silently win.
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _DuplicateKey(key)
    return data


def json_body() -> Any:
    """The request's JSON body, or an ApiError: 415 for another content type, 400 if malformed
    or ambiguous (a key named twice), 413 if too large."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    return decode_json(request_body())


def decode_json(data: bytes) -> Any:
    """JSON bytes (a request body, an MQTT message) decoded, or an ApiError 400 when they are
    malformed or ambiguous (a key named twice)."""
    try:
        return json.loads(data, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as error:
        raise ApiError(400, "duplicate_key", f"the key {error.args[0]!r} appears twice in one "
                       "JSON object; send each key once", key=error.args[0]) from None
    except ValueError:  # not JSON, not UTF-8, or an integer of thousands of digits
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from None
    except RecursionError:  # absurdly nested JSON overflows the decoder before any check
        raise ApiError(400, "malformed_json", "the request body is nested too deeply") from None


def json_object(data: Any) -> dict[str, Any]:
    """A parsed JSON body that must be an object; ApiError 422 when it is anything else."""
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "the request body must be a JSON object")
    return data


def validate_body(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """Validate a JSON object against a pydantic model; 422 lists what is wrong per field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, "body") from None


def parse_body(model: type[ModelT]) -> ModelT:
    """Validate the JSON body against a pydantic model; 422 lists what is wrong per field."""
    return validate_body(model, json_object(json_body()))


def parse_query(model: type[ModelT]) -> ModelT:
    """Validate the query string against a pydantic model; 422 lists what is wrong per field.

    A parameter given twice is refused (which one would count?), and so is an integer beyond
    64 bits, which no database accepts as a bound."""
    args = request.args
    repeated = sorted({name for name in args if len(args.getlist(name)) > 1})
    fields = [{"field": name, "message": "must be given once"} for name in repeated]
    if not fields:
        try:
            parsed = model.model_validate(args.to_dict())
        except ValidationError as error:
            raise validation_error(error, "query") from None
        fields = [{"field": name, "message": f"must be at most {INT64_MAX}"}
                  for name, value in parsed if isinstance(value, int) and abs(value) > INT64_MAX]
        if not fields:
            return parsed
    raise invalid(fields)


def validation_error(error: ValidationError, where: str) -> ApiError:
    """A 422 naming each field that failed validation and why."""
    return invalid(field_errors(error, where))


def invalid(fields: list[FieldError]) -> ApiError:
    """A 422 listing ``fields`` (``{"field", "message"}`` each) and summing them up."""
    return ApiError(422, "validation_error", summary(fields), fields=fields)


def service_app(import_name: str, service: str, settings: Settings | None,
                database: Database | None, document: Callable[[], dict[str, Any]],
                title: str) -> Flask:
    """A Flask app with what every service shares: settings, logging, request ids and access
    lines, body limit, database, JSON errors, the Host check, security headers, /health and
    the API docs. The service registers its own blueprints."""
    settings = settings or get_settings()
    if not logging.getLogger().handlers:  # under gunicorn; a test runner has its own handlers
        configure_logging(service, settings.log_level, settings.log_format)
    app = Flask(import_name)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["settings"] = settings
    app.extensions["database"] = database = database or Database(
        settings.database_url, pool_max=settings.db_pool_size)
    register_error_handlers(app)
    access.install(app)  # request ids and access lines, around everything else
    hosts.install(app, settings)  # first of all before_request functions: before the guard
    headers.install(app)
    metrics.install(app, service)  # times every request; GET /metrics
    app.register_blueprint(health_blueprint(lambda: database, service))
    app.register_blueprint(docs_blueprint(document, title))
    return app


def health_blueprint(database_of: Callable[[], Database], service: str) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/health")
    def health():
        """Liveness and database reachability."""
        if database_of().ping():
            return {"status": "ok", "service": service, "database": "ok"}
        return error_response(503, "unavailable", "the database is not reachable",
                              service=service, database="unreachable")

    return bp
