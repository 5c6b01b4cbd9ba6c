"""``command-sender``: run the worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal

from mission_control.logs import configure_logging
from mission_control.settings import get_settings
from mission_control.telemetry_housekeeping import Housekeeping

from . import monitoring
from .worker import Worker


def main() -> None:
    settings = get_settings()
    configure_logging("command-sender", settings.log_level)
    worker = Worker(settings)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    monitoring.serve(worker)  # /metrics and /health on METRICS_PORT
    # Telemetry's partitions ahead and its retention, beside the worker loop (docs/telemetry.md)
    housekeeping = Housekeeping(worker.database, settings.telemetry_retention_days)
    housekeeping.start()
    try:
        worker.run()
    finally:
        housekeeping.stop()


if __name__ == "__main__":
    main()
