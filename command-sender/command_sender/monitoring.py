"""The command-sender's series and health, served on METRICS_PORT (docs/observability.md).

Its status changes are counted by the lifecycle module (mc_telecommand_transitions_total),
like ground's; here are the worker's own figures: how late READY commands go out, and the
uplink errors its steps meet. /health says whether the loop's last database pass succeeded
recently (within the time after which ground's /api/workers calls a worker lost).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Iterable

from mission_control import heartbeat, metrics

PICKUP_LATENCY = metrics.histogram(
    "mc_pickup_latency_seconds",
    "How late after its scheduled transmit time a READY command was claimed and moved to "
    "TRANSMITTED",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
UPLINK_ERRORS = metrics.counter(
    "mc_uplink_errors_total",
    "Commands whose uplink step met an error, by kind: transient (unreachable, 5xx, 429), "
    "key_refused (401), permanent (refused: 4xx), unroutable (no uplink for the target)",
    ["kind"])
KINDS = ("transient", "key_refused", "permanent", "unroutable")
for _kind in KINDS:  # every kind shows, at 0 until it happens
    UPLINK_ERRORS.labels(_kind)


def uplink_errors(kind: str, commands: int) -> None:
    """Count ``commands`` whose step met an uplink error of ``kind``."""
    if commands:
        UPLINK_ERRORS.labels(kind).inc(commands)


def picked_up(claimed: Iterable[Any], transmitted: set, at: datetime) -> None:
    """Observe how late each command moved READY -> TRANSMITTED at ``at`` went out."""
    for command in claimed:
        if command.id in transmitted and command.transmit_at is not None:
            PICKUP_LATENCY.observe(max(0.0, (at - command.transmit_at).total_seconds()))


def health(worker) -> tuple[bool, dict[str, Any]]:
    """Healthy while the worker runs and its last database pass succeeded recently."""
    last = worker.last_pass_ok
    age = None if last is None else time.monotonic() - last
    healthy = (age is not None and not worker.stop_requested.is_set()
               and age <= heartbeat.stale_after_s(worker.settings.poll_interval_s))
    return healthy, {"worker_id": worker.worker_id,
                     "last_pass_s_ago": None if age is None else round(age, 3)}


def serve(worker):
    """GET /metrics and GET /health on METRICS_PORT (LISTEN_HOST, else 127.0.0.1); None when
    the port is 0 or taken (logged; the worker works on)."""
    settings = worker.settings
    return metrics.serve(settings.metrics_port, settings.listen_host or "127.0.0.1",
                         health=lambda: health(worker))
