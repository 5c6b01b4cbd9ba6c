"""Settings from environment variables: the one place that names them and their defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'var' / 'mission-control.db'}"


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

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    log_level: str = "INFO"

    # gunicorn, for each web service (mc-serve): worker processes, and threads in each
    web_concurrency: int = Field(2, ge=1)
    web_threads: int = Field(4, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
