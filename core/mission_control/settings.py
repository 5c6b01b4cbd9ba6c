"""Settings from environment variables: the one place that names them and their defaults."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import mqtt


def default_var_dir() -> Path:
    return Path.cwd() / "var"


def default_database_url() -> str:
    return f"sqlite:///{default_var_dir() / 'mission-control.db'}"


class Settings(BaseSettings):
    """Every service reads the same names (DESIGN.md, Configuration); durations are seconds."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False)

    database_url: str = Field(default_factory=default_database_url)
    ground_url: str = "http://127.0.0.1:5000"
    spacecraft_url: str = "http://127.0.0.1:8080"
    robot_server_url: str = "http://127.0.0.1:7070"
    registry_url: str = "http://127.0.0.1:8000"

    max_transmit_delay_s: float = Field(30.0, ge=0)
    max_stage_delay_s: float = Field(5.0, ge=0)
    execution_failure_rate: float = Field(0.15, ge=0, le=1)
    poll_interval_s: float = Field(1.0, gt=0)

    # command-sender tuning (documented in the README)
    lease_s: float = Field(30.0, gt=0)
    uplink_timeout_s: float = Field(5.0, gt=0)
    max_send_attempts: int = Field(5, ge=1)
    retry_backoff_s: float = Field(0.5, ge=0)
    worker_batch_size: int = Field(500, ge=1)
    worker_threads: int = Field(4, ge=1)

    # The uplink protocol's batch forms (DESIGN.md): at most this many commands or ids per
    # call, in a body of at most uplink_max_body_bytes (other bodies: max_body_bytes).
    uplink_batch_max: int = Field(500, ge=1, le=10_000)
    uplink_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    # A target's executor runs due commands at least this often (sooner when it knows of one).
    executor_poll_s: float = Field(0.1, gt=0)

    # Two-person approval (docs/approval.md): which commands wait for a second user's approval
    # (those the catalog marks hazardous, all, or none), and how long a request may wait
    # before it ends CANCELLED "approval expired".
    approval_required: Literal["hazardous", "all", "none"] = "hazardous"
    approval_timeout_s: float = Field(3600.0, gt=0)
    # Command authority (docs/authority.md): an exclusive control's lease when the request
    # names none (at most a day, as a request may ask for).
    control_lease_s: float = Field(900.0, gt=0, le=24 * 3600)

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # ground's telecommand report (CSV): the most commands one range may hold (422 beyond).
    report_max_rows: int = Field(100_000, ge=1, le=10_000_000)
    # A fleet-wide command (POST /api/batches): the most targets one request may address.
    batch_max_targets: int = Field(5000, ge=1, le=100_000)
    log_level: str = "INFO"
    # "text": one line per event; "json": one JSON object per line (docs/observability.md)
    log_format: Literal["text", "json"] = "text"
    # Where web services listen: empty means the host of their own URL (GROUND_URL for
    # ground, ...); 0.0.0.0 in a container, whose URL names the service, not an interface.
    listen_host: str = ""
    # The command-sender's /metrics and /health port (0: none). Web services serve /metrics
    # on their own port.
    metrics_port: int = Field(9100, ge=0, le=65535)

    # Identity (docs/security.md). Secrets left unset are generated into var_dir on first use
    # and read from there by every service of the checkout; the admin password only by
    # mc-migrate, for the first admin.
    var_dir: Path = Field(default_factory=default_var_dir)
    admin_password: SecretStr | None = None
    secret_key: SecretStr | None = None
    uplink_key: SecretStr | None = None
    session_cookie_secure: bool = False
    session_ttl_s: float = Field(12 * 3600.0, gt=0)
    # Host headers the web services answer (comma-separated; "*" for any). Empty: localhost,
    # 127.0.0.1, ::1 and the hosts of the service URLs above.
    allowed_hosts: str = ""
    # argon2 checks one process runs at once; more wait (then 503) instead of starving requests.
    max_concurrent_hashes: int = Field(1, ge=1, le=64)

    # robot-server (docs/robot-server.md): session lifetime (renewed by use), the robots'
    # heartbeat period, and the silence after which a robot is offline (unset: 3 x interval).
    robot_session_ttl_s: float = Field(3600.0, gt=0)
    heartbeat_interval_s: float = Field(1.0, gt=0)
    heartbeat_timeout_s: float | None = Field(None, gt=0)
    heartbeat_flush_s: float = Field(0.2, ge=0, le=1)
    # How long a command for a robot waits to be acknowledged (robot offline, say) before it
    # fails with "expired".
    command_ttl_s: float = Field(300.0, gt=0)
    robot_result_timeout_s: float = Field(600.0, gt=0)

    # gunicorn, for each web service (mc-serve): worker processes, and threads in each
    web_concurrency: int = Field(2, ge=1)
    web_threads: int = Field(4, ge=1)
    # PostgreSQL connections a web service's process may hold in each of its two pools (no
    # overflow: beyond it, a request waits for one). Sized so a stack stays under the
    # server's max_connections (100 by default) even when robot-server's gevent worker has
    # thousands of requests in flight.
    db_pool_size: int = Field(10, ge=1, le=500)

    # robot-client (docs/robot-client.md): a user's token for registry-api (unset: asked), the
    # robots' password for `run` and `fleet` (unset: asked; the fleet's generated into var/),
    # the cap of its reconnect backoff, and the telemetry points kept while robot-server is away.
    mission_token: SecretStr | None = None
    robot_password: SecretStr | None = None
    robot_backoff_max_s: float = Field(10.0, gt=0)
    telemetry_buffer_points: int = Field(600, ge=1)

    # Telemetry (docs/configuration.md): how long points are kept (the command-sender's
    # housekeeping drops older ones), the largest POST /api/telemetry body, how often the
    # spacecraft pushes its state, and its token (unset: the one mc-migrate wrote to var/).
    telemetry_retention_days: int = Field(30, ge=1, le=36_500)
    telemetry_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    telemetry_interval_s: float = Field(5.0, gt=0)
    telemetry_token: SecretStr | None = None
    # MQTT (docs/mqtt.md): unset, robots speak HTTP only. mqtt://user:pass@host:port (mqtts://
    # for TLS): robot-server subscribes to the robots' topics as that user, and robot-client
    # `--transport mqtt` publishes there (as the robot's id and password when it names no user).
    # robot-server's processes and replicas share the messages as one MQTT shared-subscription
    # group of this name (empty: each process gets every message).
    # A plain string like DATABASE_URL (compose builds both from .env's passwords); never
    # logged (mqtt.Broker prints no password) nor echoed by ConfigurationError.
    mqtt_url: str | None = None
    mqtt_share_group: str = Field("robot-server", pattern=r"^[A-Za-z0-9_.-]{0,64}$")

    @field_validator("mqtt_url")
    @classmethod
    def _an_mqtt_url(cls, url: str | None) -> str | None:
        if url:
            mqtt.parse_url(url)  # ValueError: named at start-up
            return url
        return None  # MQTT_URL= (empty) is unset

    @property
    def heartbeat_timeout(self) -> float:
        """HEARTBEAT_TIMEOUT_S, or 3 x HEARTBEAT_INTERVAL_S when unset."""
        return self.heartbeat_timeout_s or 3 * self.heartbeat_interval_s


_SECRET_NAME = re.compile(r"PASSWORD|KEY|SECRET|TOKEN|_URL")


class ConfigurationError(SystemExit):
    """The environment names a setting with a value it cannot take: the program stops with a
    message naming each such variable and why (no traceback; exit status 2)."""

    def __init__(self, error: ValidationError) -> None:
        lines = ["invalid configuration (environment variables; see docs/configuration.md):"]
        for problem in error.errors():
            name = "_".join(str(part) for part in problem["loc"]).upper() or "(settings)"
            # a value that may hold a secret (a password in a URL, a key) is never echoed
            shown = "" if _SECRET_NAME.search(name) else f"={problem.get('input')!r}"
            lines.append(f"  {name}{shown}: {problem['msg']}")
        print("\n".join(lines), file=sys.stderr)
        super().__init__(2)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(error) from None
