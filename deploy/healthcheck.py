"""Container HEALTHCHECK: ``python mc-healthcheck.py SERVICE`` exits 0 when the service in this
container answers 200 on its /health, on loopback; 1 otherwise, saying why.

The port comes from the settings the service itself reads: a web service's own URL
(GROUND_URL for ground, ...) and the command-sender's METRICS_PORT. So a stack that moves a
service to another port needs no second change here. Needs only the core package.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from mission_control.serve import SERVICES
from mission_control.settings import Settings

WORKER = "command-sender"
TIMEOUT_S = 4  # below the HEALTHCHECK's --timeout, so a slow answer is reported, not killed


def health_url(service: str, settings: Settings) -> str:
    """Where ``service`` answers GET /health inside its own container."""
    if service == WORKER:
        if not settings.metrics_port:
            raise ValueError("METRICS_PORT is 0: the command-sender serves no /health to check")
        port = settings.metrics_port
    elif service in SERVICES:
        _, url_setting = SERVICES[service]
        port = urlsplit(getattr(settings, url_setting)).port or 80
    else:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(sorted(SERVICES))}, {WORKER}")
    return f"http://127.0.0.1:{port}/health"


def check(url: str) -> str | None:
    """None when ``url`` answers 200; otherwise what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return None if response.status == 200 else f"{url} answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (OSError, ValueError) as error:
        return f"{url} did not answer: {error}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: mc-healthcheck.py SERVICE", file=sys.stderr)
        return 1  # Docker reserves 2
    try:
        problem = check(health_url(args[0], Settings()))
    except ValueError as error:
        problem = str(error)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
