"""``mc-serve SERVICE``: run a service's Flask app under gunicorn, bound where its URL says.

The address comes from the same setting other services use to find it (GROUND_URL for
ground, ...), so the two can never disagree. WEB_CONCURRENCY and WEB_THREADS (Settings) set
the worker processes and the threads in each; robot-server runs gevent's worker instead of
threads (GEVENT_SERVICES).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
from typing import Any
from urllib.parse import urlsplit

from gunicorn import glogging, util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from . import metrics_dir
from .db import database_address
from .logs import gunicorn_config
from .settings import Settings, get_settings

_GUNICORN_SETTINGS = {setting.name for setting in KNOWN_SETTINGS}

SERVICES = {
    "ground": ("ground.app:create_app", "ground_url"),
    "spacecraft": ("spacecraft.app:create_app", "spacecraft_url"),
    "registry-api": ("registry_api.app:create_app", "registry_url"),
    "robot-server": ("robot_server.app:create_app", "robot_server_url"),
}
# robot-server holds the robots' long polls (GET /robots/{id}/commands?wait=...), idle for
# up to 30 s each: with gevent's worker each is a greenlet, so a process holds thousands
# (GEVENT_CONNECTIONS) where gthread holds WEB_THREADS. The others answer short requests.
GEVENT_SERVICES = frozenset({"robot-server"})
GEVENT_CONNECTIONS = 4000


def bind_address(url: str, listen_host: str = "") -> str:
    """host:port to listen on: the URL's port, on LISTEN_HOST or else the URL's host."""
    parts = urlsplit(url)
    host = listen_host or parts.hostname or "127.0.0.1"
    return f"[{host}]:{parts.port or 80}" if ":" in host else f"{host}:{parts.port or 80}"


def addresses(settings) -> str:
    """What `make run` prints first: where to point a browser or curl."""
    from .users import ADMIN_PASSWORD_FILE  # not at import: it imports prometheus_client

    lines = ["Mission Control is starting (Ctrl-C stops every service):"]
    for service, (_, setting) in SERVICES.items():
        lines.append(f"  {service:<14} {getattr(settings, setting)}")
    worker = (f"(worker) metrics: http://{settings.listen_host or '127.0.0.1'}:"
              f"{settings.metrics_port}/metrics" if settings.metrics_port else "(worker, no port)")
    lines.append(f"  {'command-sender':<14} {worker}")
    lines.append(f"  operator page  {settings.ground_url}/   API docs: {settings.ground_url}/docs")
    lines.append(f"  database       {database_address(settings.database_url)}")
    password_file = settings.var_dir / ADMIN_PASSWORD_FILE
    where = str(password_file) if password_file.exists() else "ADMIN_PASSWORD, or your own"
    lines.append(f"  sign in        as admin (password: {where}); more users: mc-users create")
    return "\n".join(lines)


def _background_tasks(worker) -> list:
    """What the worker's app asks to run beside its requests: ``app.extensions
    ["background_tasks"]``, objects with start() and stop() (e.g. the spacecraft's executor)."""
    app = getattr(worker, "wsgi", None)  # absent when the master calls worker_exit
    return list(getattr(app, "extensions", {}).get("background_tasks", ()))


def start_background_tasks(worker) -> None:
    """gunicorn post_worker_init: start them in each worker process, after the fork."""
    for task in _background_tasks(worker):
        task.start()
    _tell_at_shutdown([t for t in _background_tasks(worker) if hasattr(t, "stopping")])


def _tell_at_shutdown(tasks: list) -> None:
    """Call each task's ``stopping()`` as soon as the worker is told to stop (SIGTERM, SIGINT,
    SIGQUIT), before gunicorn waits up to graceful_timeout for the requests in flight: a
    request that would wait long (robot-server's long poll) answers then, so the worker
    exits at once. gunicorn's own handler runs after."""
    if not tasks:
        return
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(signum)

        def handler(number, frame, previous=previous):
            for task in tasks:
                task.stopping()
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)


def stop_background_tasks(server, worker) -> None:
    """gunicorn worker_exit: let them finish what they are doing (SIGTERM, a restart)."""
    for task in _background_tasks(worker):
        task.stop()


def json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it cannot even parse (a bad request line, header or
    chunk), as our JSON error document instead of its HTML page: no client input gets HTML."""
    body = json.dumps({"error": reason.lower().replace(" ", "_"),
                       "message": mesg or reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


class GunicornLogger(glogging.Logger):
    """gunicorn's logger without its access lines (they show the query string and no user):
    the app writes its own (mission_control.access)."""

    def access(self, resp, req, environ, request_time) -> None:
        pass


class _Gunicorn(BaseApplication):
    def __init__(self, factory: str, options: dict) -> None:
        self.factory = factory
        self.options = options
        # gunicorn has no setting for the body of its own refusals; its workers (forked
        # from this process) look the writer up in gunicorn.util on each refusal.
        gunicorn_util.write_error = json_error
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        module_name, _, attribute = self.factory.partition(":")
        module = __import__(module_name, fromlist=[attribute])
        return getattr(module, attribute)()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a Mission Control web service under gunicorn.")
    parser.add_argument("service", nargs="?", choices=sorted(SERVICES))
    parser.add_argument("--addresses", action="store_true",
                        help="print where each service will listen, then exit")
    options = parser.parse_args(argv)
    if options.addresses:
        print(addresses(get_settings()))
        return
    if options.service is None:
        parser.error("name a service")
    factory, _ = SERVICES[options.service]
    metrics_dir.prepare(options.service)  # before anything imports prometheus_client
    logging.captureWarnings(True)  # a library's warning becomes a log line in the one format
    _Gunicorn(factory, gunicorn_options(options.service, get_settings())).run()


def gunicorn_options(service: str, settings: Settings) -> dict[str, Any]:
    """How gunicorn runs ``service``: where it binds, how many workers and threads."""
    _, url_setting = SERVICES[service]
    concurrency: dict[str, Any] = (
        {"worker_class": "gevent", "worker_connections": GEVENT_CONNECTIONS}
        if service in GEVENT_SERVICES else
        {"worker_class": "gthread", "threads": settings.web_threads})
    return {
        "bind": bind_address(getattr(settings, url_setting), settings.listen_host),
        "workers": settings.web_concurrency,
        **concurrency,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        # gunicorn's own lines and the app's: one handler, one format (LOG_FORMAT)
        "logconfig_dict": gunicorn_config(service, settings.log_level, settings.log_format),
        "logger_class": GunicornLogger,
        "proc_name": f"mission-control-{service}",
        "graceful_timeout": 10,
        "post_worker_init": start_background_tasks,
        "worker_exit": stop_background_tasks,
        "child_exit": metrics_dir.mark_worker_dead,  # /metrics: multiprocess mode
        "on_exit": metrics_dir.remove,
        # gunicorn answers a request line over 4 KiB with an HTML 414; 0 lets lines up to its
        # hard cap of 1 MiB through to the app, which answers a bad query with a JSON 4xx.
        "limit_request_line": 0,
        # gunicorn 27 opens a control socket at one fixed path per user: two services on
        # one machine would take it from each other, and we do not use it.
        **({"control_socket_disable": True}
           if "control_socket_disable" in _GUNICORN_SETTINGS else {}),
    }


if __name__ == "__main__":
    main()
