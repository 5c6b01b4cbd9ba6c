"""HTTP plumbing shared by every Flask service: JSON errors, JSON bodies, health, API docs."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Callable, TypeVar

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import AfterValidator, BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from .apidocs import docs_blueprint
from .db import Database
from .logs import configure_logging
from .settings import Settings, get_settings

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

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        return error_response(503, "database_unavailable",
                              "the database is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed; see its log")


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


# A string field that refuses control characters (PostgreSQL cannot store NUL in text).
PlainText = Annotated[str, AfterValidator(_no_control_characters)]


def plain_header(name: str, default: str | None = None, max_length: int = 200) -> str | None:
    """A header's value, or ApiError 422 when it is empty, too long or holds control characters."""
    value = request.headers.get(name)
    if value is None:
        return default
    value = value.strip()
    if not value or len(value) > max_length or _CONTROL_CHARACTERS.search(value):
        raise ApiError(422, "validation_error",
                       f"{name} must be 1 to {max_length} printable characters")
    return value


def json_body() -> Any:
    """The request's JSON body, or an ApiError: 415 for another content type, 400 if malformed."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    _read_within_limit()
    try:
        return request.get_json()
    except BadRequest:
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from None
    except RecursionError:  # absurdly nested JSON overflows the decoder before any check
        raise ApiError(400, "malformed_json", "the request body is nested too deeply") from None


def _read_within_limit() -> None:
    """Read the body, or ApiError 413 when it is larger than ``request.max_content_length``.

    werkzeug cuts a chunked body (no Content-Length) off at the limit without an error, and
    the JSON then looks malformed (400): read one byte more than the limit to tell.
    """
    limit = request.max_content_length
    if limit is None:
        return
    request.max_content_length = limit + 1
    try:
        too_large = len(request.get_data()) > limit
    except RequestEntityTooLarge:
        too_large = True
    finally:
        request.max_content_length = limit
    if too_large:
        raise ApiError(413, "payload_too_large", f"request body is larger than {limit} bytes")


def parse_body(model: type[ModelT]) -> ModelT:
    """Validate the JSON body against a pydantic model; 422 lists what is wrong per field."""
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, "body") from None


def parse_query(model: type[ModelT]) -> ModelT:
    """Validate the query string against a pydantic model; 422 lists what is wrong per field."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise validation_error(error, "query") from None


def validation_error(error: ValidationError, where: str) -> ApiError:
    """A 422 naming each field that failed validation and why."""
    fields = [{"field": ".".join(str(p) for p in e["loc"]) or where, "message": e["msg"]}
              for e in error.errors(include_url=False)]
    return ApiError(422, "validation_error",
                    "; ".join(f"{f['field']}: {f['message']}" for f in fields), fields=fields)


def service_app(import_name: str, service: str, settings: Settings | None,
                database: Database | None, document: Callable[[], dict[str, Any]],
                title: str) -> Flask:
    """A Flask app with what every service shares: settings, logging, body limit, database,
    JSON errors, /health and the API docs. The service registers its own blueprints."""
    settings = settings or get_settings()
    if not logging.getLogger().handlers:  # under gunicorn; a test runner has its own handlers
        configure_logging(service, settings.log_level)
    app = Flask(import_name)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["settings"] = settings
    app.extensions["database"] = database = database or Database(settings.database_url)
    register_error_handlers(app)
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
