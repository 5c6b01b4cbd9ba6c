"""The Host check against DNS rebinding (wired once, in web.service_app).

A page on another site can make a browser resolve its own name to 127.0.0.1 and then talk to
a service here with the browser's cookies; the one thing it cannot change is the ``Host``
header, which still names its site. So every request whose host is not one of ours gets 400.

Ours (Settings.allowed_hosts, comma-separated): "*" allows any host; empty means localhost,
127.0.0.1, ::1 and the hosts of GROUND_URL, SPACECRAFT_URL, ROBOT_SERVER_URL and REGISTRY_URL.
Ports are ignored: the port is not what a rebinding attack changes, and a service behind a
proxy is often addressed on another port than the one it listens on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from .settings import Settings

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
ANY = "*"


class BadHost(Exception):
    """The request names a host this service does not answer to (400 ``bad_host``)."""


def normalize(host: str) -> str:
    """A host name without port, brackets or trailing dot, in lower case ("" if unusable)."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:5000
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # name:port (a bare IPv6 address has more than one colon)
        host = host.partition(":")[0]
    return host.rstrip(".")


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names this service answers; None when any host is allowed."""
    configured = [normalize(h) for h in settings.allowed_hosts.split(",") if h.strip()]
    if ANY in configured:
        return None
    if configured:
        return frozenset(configured)
    urls = (settings.ground_url, settings.spacecraft_url, settings.robot_server_url,
            settings.registry_url)
    return frozenset(LOCAL_HOSTS) | {normalize(urlsplit(url).hostname or "") for url in urls} - {""}


def install(app: Flask, settings: Settings) -> None:
    """Refuse every request of ``app`` whose Host is not allowed, before anything else runs."""
    allowed = allowed_hosts(settings)
    if allowed is None:
        return

    def check_host() -> None:
        host = request.headers.get("Host")
        if host is None:  # HTTP/1.0 may leave it out: then the address the client connected to
            host = request.environ.get("SERVER_NAME", "")
        if normalize(host) not in allowed:
            raise BadHost("this service does not answer to that host name; add it to "
                          "ALLOWED_HOSTS if it is really yours")

    app.before_request(check_host)
