"""mc-serve's multiprocess directory: where each gunicorn worker process writes its figures.

Deliberately free of prometheus_client at import time: the variable must be set in the
gunicorn master before anything imports prometheus_client (which picks its value class once,
at import), so that the workers forked from the master all write to the directory.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(service: str) -> str:
    """A fresh, empty directory for this start of ``service``, named in the environment.

    Under ``$TMPDIR`` (else the system's temporary folder); a previous start's figures are
    never mixed in, since every start has its own directory."""
    if "prometheus_client.values" in sys.modules:
        raise RuntimeError(f"prometheus_client was imported before {MULTIPROC_ENV} was set: "
                           "the worker processes would not add up their figures")
    path = tempfile.mkdtemp(prefix=f"mc-metrics-{service}-")
    os.environ[MULTIPROC_ENV] = path
    return path


def mark_worker_dead(server, worker) -> None:
    """gunicorn child_exit (in the master): a worker is gone; its live gauges go with it, its
    counters stay counted."""
    from prometheus_client import multiprocess  # the variable is set by now

    multiprocess.mark_process_dead(worker.pid)


def remove(server) -> None:
    """gunicorn on_exit: the service stops; its directory goes."""
    path = os.environ.get(MULTIPROC_ENV)
    if path and os.path.basename(path).startswith("mc-metrics-"):
        shutil.rmtree(path, ignore_errors=True)
