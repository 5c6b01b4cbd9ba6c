"""``/openapi.json`` and ``/docs``: every service's document and a Swagger UI to read it.

Swagger UI 5 is vendored in static/swagger-ui (see its README): it renders OpenAPI 3.1, and the
page asks nothing of any other host (no CDN, no validator badge).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, send_from_directory

SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"

_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/init.js"></script></body></html>"""

# validatorUrl null: otherwise the page loads a badge from validator.swagger.io.
_SWAGGER_INIT = ('window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", '
                 'deepLinking: true, validatorUrl: null});')


def docs_blueprint(document: Callable[[], dict[str, Any]], title: str) -> Blueprint:
    """``/openapi.json`` and a Swagger UI at ``/docs`` served from the vendored files."""
    bp = Blueprint("docs", __name__)

    @bp.get("/openapi.json")
    def openapi_document():
        """The OpenAPI 3.1 document of this service."""
        return jsonify(document())

    @bp.get("/docs")
    def docs_page():
        """Swagger UI."""
        return Response(_SWAGGER_PAGE.format(title=title), mimetype="text/html")

    @bp.get("/docs/static/init.js")
    def docs_init():
        return Response(_SWAGGER_INIT, mimetype="text/javascript")

    @bp.get("/docs/static/<path:filename>")
    def docs_static(filename: str):
        return send_from_directory(SWAGGER_UI, filename)

    return bp
