"""Prometheus series and their exposition: the one helper every service declares series with.

A module declares the series it moves with ``counter``, ``histogram`` or ``gauge`` (names
start ``mc_``; docs/observability.md lists them all), or, for a figure read at scrape time
(telecommands by status), a ``ScrapedGauge`` that a service adds to its /metrics with
``add_collector``. ``install(app, service)`` times every request of a Flask service into
``mc_http_request_duration_seconds`` and serves ``GET /metrics``; ``serve`` runs the same page
(and /health) on a small port of its own, for the command-sender.

Under mc-serve several gunicorn worker processes answer one port: mc-serve points
PROMETHEUS_MULTIPROC_DIR at a fresh directory (metrics_dir.py) before prometheus_client is
imported, every process writes its values there, and /metrics adds up every process's files,
so a scrape sees the whole service whichever worker answers it. Without that variable (tests,
the command-sender) the values live in this process's default registry.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, \
    disable_created_metrics, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily, Metric

from .metrics_dir import MULTIPROC_ENV

log = logging.getLogger(__name__)

PREFIX = "mc_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what every Prometheus reads
# 1 ms to 10 s: a request, or a step of the worker
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no URL rule matched (404, 405)
_STARTED = "mc.metrics.started"  # the request's start time, in its WSGI environ

# Counters without the extra ``_created`` series: it doubles the output and nobody graphs it
# (multiprocess mode has none either, so both modes print the same series).
disable_created_metrics()

if os.environ.get(MULTIPROC_ENV) and not getattr(values.ValueClass, "_multiprocess", False):
    # prometheus_client chose its value class before the directory was set: each process
    # would count alone and /metrics would show a fraction. Fail loudly, not wrongly.
    raise RuntimeError(f"{MULTIPROC_ENV} was set after prometheus_client was imported")


def _named(name: str) -> str:
    if not name.startswith(PREFIX):
        raise ValueError(f"series names start with {PREFIX!r}: {name!r}")
    return name


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter (``name`` ends in ``_total``); rate() of it is per second."""
    return Counter(_named(name), documentation, list(labels))


def histogram(name: str, documentation: str, labels: Sequence[str] = (),
              buckets: Sequence[float] = SECONDS_BUCKETS) -> Histogram:
    return Histogram(_named(name), documentation, list(labels), buckets=buckets)


def gauge(name: str, documentation: str, labels: Sequence[str] = (), *,
          multiprocess_mode: str) -> Gauge:
    """A gauge set in the process; ``multiprocess_mode`` says how the figures of several
    processes combine (``max``, ``livesum``, ... as prometheus_client names them)."""
    return Gauge(_named(name), documentation, list(labels), multiprocess_mode=multiprocess_mode)


class ScrapedGauge:
    """A gauge read at scrape time: ``read()`` gives {label value: figure}, one label. Every
    value of ``always`` is shown, 0 when ``read`` leaves it out. When ``read`` fails (the
    database is down) the series is left out of that scrape and the failure logged."""

    def __init__(self, name: str, documentation: str, label: str,
                 read: Callable[[], Mapping[str, float]], always: Iterable[str] = ()) -> None:
        self.name, self.documentation, self.label = _named(name), documentation, label
        self.read = read
        self.always = tuple(always)

    def collect(self) -> Iterator[Metric]:
        try:
            figures = dict.fromkeys(self.always, 0.0) | dict(self.read())
        except Exception as error:
            log.warning("%s left out of this scrape: %s", self.name, error)
            return
        family = GaugeMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, figure in sorted(figures.items()):
            family.add_metric([value], figure)
        yield family


REQUEST_DURATION = histogram(
    "mc_http_request_duration_seconds",
    "Time to answer an HTTP request, by service, method, URL rule and status code",
    ["service", "method", "route", "status"])
BUILD_INFO = gauge("mc_build_info", "1 for each service and version running",
                   ["service", "version"], multiprocess_mode="max")


# -- exposition ------------------------------------------------------------------------------

class _Joined:
    """The base registry's series followed by a service's own collectors."""

    def __init__(self, base: Any, extra: Iterable[Any]) -> None:
        self.base, self.extra = base, list(extra)

    def collect(self) -> Iterator[Metric]:
        yield from self.base.collect()
        for collector in self.extra:
            yield from collector.collect()


def exposition(collectors: Iterable[Any] = ()) -> bytes:
    """The /metrics page: every process's figures (multiprocess mode) or this process's,
    then ``collectors``."""
    if os.environ.get(MULTIPROC_ENV):
        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        base = REGISTRY
    return generate_latest(_Joined(base, collectors))


def _version(distribution: str = "mission-control-core") -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


# -- Flask services --------------------------------------------------------------------------

def install(app: Flask, service: str) -> None:
    """Time every request of ``app`` and serve GET /metrics (public, like /health: meant for
    the internal network, see docs/observability.md)."""
    app.extensions["metrics_collectors"] = []
    BUILD_INFO.labels(service, _version()).set(1)
    # First of every before_request function (the Host check and the guard included), so
    # refused requests are timed as well.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    def observe(response: Response) -> Response:
        started = request.environ.get(_STARTED)
        if started is not None:
            REQUEST_DURATION.labels(service, method_label(request.method), route_label(),
                                    str(response.status_code)) \
                .observe(time.perf_counter() - started)
        return response

    app.after_request(observe)
    app.register_blueprint(_blueprint())


def add_collector(app: Flask, collector: Any) -> None:
    """Add a collector (``collect()`` yielding metric families) to ``app``'s /metrics only."""
    app.extensions["metrics_collectors"].append(collector)


def _start() -> None:
    request.environ[_STARTED] = time.perf_counter()


def method_label(method: str) -> str:
    """The method, or "other" for a made-up one: label values stay few whatever clients send."""
    return method if method in METHODS else "other"


def route_label() -> str:
    """The URL rule that matched (``/api/telecommands/<command_id>``), never the raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _blueprint() -> Blueprint:
    # authweb lets the "metrics" blueprint through like "health": no token, no session.
    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics():
        """The service's series in Prometheus' text format."""
        body = exposition(current_app.extensions["metrics_collectors"])
        return Response(body, headers={"Content-Type": CONTENT_TYPE})

    return bp


# -- the worker's port -----------------------------------------------------------------------

Health = Callable[[], tuple[bool, dict[str, Any]]]


def serve(port: int, host: str, collectors: Iterable[Any] = (), *,
          health: Health | None = None) -> ThreadingHTTPServer | None:
    """Answer GET /metrics and GET /health on ``host:port`` from a daemon thread; None when
    ``port`` is 0 or taken (logged: the caller's work matters more than its figures).

    ``health()`` gives (healthy, details): 200 ``{"status": "ok", **details}`` or 503
    ``{"status": "unavailable", **details}``."""
    if not port:
        return None
    collectors = list(collectors)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.partition("?")[0]
            if path == "/metrics":
                self._answer(200, exposition(collectors), CONTENT_TYPE)
            elif path == "/health":
                healthy, details = health() if health else (True, {})
                status = "ok" if healthy else "unavailable"
                self._answer(200 if healthy else 503,
                             json.dumps({"status": status, **details}).encode(),
                             "application/json")
            else:
                self._answer(404, json.dumps({"error": "not_found", "message":
                                              "this port serves /metrics and /health"})
                             .encode(), "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def send_error(self, code: int, message: str | None = None,
                       explain: str | None = None) -> None:
            """http.server's own refusals (a malformed request line or header, another method
            than GET) as JSON like every other answer of ours, and an unknown method as 405."""
            if code == HTTPStatus.NOT_IMPLEMENTED:
                code, message = HTTPStatus.METHOD_NOT_ALLOWED, "this port answers GET only"
            phrase = HTTPStatus(code).phrase
            body = json.dumps({"error": phrase.lower().replace(" ", "_"),
                               "message": message or phrase}).encode()
            self.close_connection = True
            # An unparsable request line leaves http.server assuming HTTP/0.9, whose answers
            # have no status line or headers: answer it as HTTP/1.0 instead.
            self.request_version = "HTTP/1.0" if self.request_version == "HTTP/0.9" \
                else self.request_version
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            if code == HTTPStatus.METHOD_NOT_ALLOWED:
                self.send_header("Allow", "GET")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # scrapes every few seconds: not logged
            pass

    server_class = ThreadingHTTPServer
    if ":" in host:  # an IPv6 address
        server_class = type("Server6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    try:
        server = server_class((host, port), Handler)
    except OSError as error:
        log.error("metrics port %s:%d not opened (%s): /metrics and /health are not served; "
                  "the work goes on", host, port, error.strerror or error)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics and health on http://%s:%d/metrics", host, port)
    return server
