"""Stack mode: the suite against services someone else started (docker compose, or processes
started by hand), chosen by the environment.

``MC_E2E_STACK=1`` switches it on. The suite then reads the names the services themselves read:
GROUND_URL, REGISTRY_URL, SPACECRAFT_URL, ADMIN_PASSWORD and UPLINK_KEY (all required),
DATABASE_URL (optional: tests that look into the database skip without it),
MC_E2E_WORKER_METRICS_URLS (optional, comma-separated: each command-sender's metrics base URL)
and MC_E2E_MAX_WAIT_S (optional, default 120: how long to wait for a command to move through
the stack's own delays). The stack is shared and persists between runs: the admin signs in
with ADMIN_PASSWORD and creates an operator and a viewer with new names for the run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .accounts import Credentials
from .harness import System

SWITCH = "MC_E2E_STACK"
REQUIRED = ("GROUND_URL", "REGISTRY_URL", "SPACECRAFT_URL", "ADMIN_PASSWORD", "UPLINK_KEY")
DEFAULT_MAX_WAIT_S = 120.0


def stack_mode(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the suite runs against a running stack rather than its own processes."""
    return environ.get(SWITCH, "").strip().lower() in {"1", "true", "yes"}


class StackConfigError(Exception):
    """The environment does not say where the stack is or how to sign in to it."""


def connect(environ: Mapping[str, str] = os.environ) -> System:
    """The running stack as a ``System`` (no processes of its own, ``private`` False); the
    run's users sign up on first need, as in local mode."""
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        raise StackConfigError(f"{SWITCH}=1 needs {', '.join(missing)} in the environment "
                               f"(all of {', '.join(REQUIRED)})")
    try:
        max_wait_s = float(environ.get("MC_E2E_MAX_WAIT_S") or DEFAULT_MAX_WAIT_S)
    except ValueError:
        raise StackConfigError("MC_E2E_MAX_WAIT_S must be a number of seconds") from None
    env = {name: environ[name].rstrip("/") for name in ("GROUND_URL", "REGISTRY_URL",
                                                        "SPACECRAFT_URL")}
    if environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = environ["DATABASE_URL"]
    metrics = [url.strip().rstrip("/") for url in
               environ.get("MC_E2E_WORKER_METRICS_URLS", "").split(",") if url.strip()]
    return System(env=env, log_dir=None, credentials=Credentials.from_environment(environ),
                  sign_up_url=env["GROUND_URL"], private=False, max_wait_s=max_wait_s,
                  worker_metrics_urls=metrics)
