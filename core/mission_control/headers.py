"""Security headers on every answer of every service (wired once, in web.service_app).

HTML answers get a Content-Security-Policy that allows nothing inline and nothing from another
host (the operator page vendors htmx and keeps its script in app.js), may not be framed
(clickjacking) and send no Referer to other sites. Every answer, JSON too, says
``X-Content-Type-Options: nosniff`` so a browser never guesses a script out of a JSON body.

A view that needs a different policy sets its own Content-Security-Policy header; it is kept.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
))

HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        for name, value in HTML_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def install(app: Flask) -> None:
    """Add the headers to every response of ``app``, errors and static files included."""
    app.after_request(add_security_headers)
