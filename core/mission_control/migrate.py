"""Apply the Alembic migrations: ``mc-migrate`` (upgrade to head) before any service starts.\n\nAt head, when no user exists yet, it also creates the first admin (users.ensure_first_admin),
and it makes sure the spacecraft's telemetry token is registered (service_token.py).\n"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from .db import Database, database_address
from .logs import configure_logging
from .settings import get_settings
from .service_token import ensure_telemetry_token
from .users import ensure_first_admin

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Apply Mission Control's database migrations.")
    parser.add_argument("revision", nargs="?", default="head")
    parser.add_argument("--database-url", default=None, help="defaults to DATABASE_URL")
    options = parser.parse_args(argv)
    configure_logging("migrate")
    url = options.database_url or get_settings().database_url
    logging.getLogger(__name__).info("migrating %s to %s", database_address(url), options.revision)
    upgrade(url, options.revision)
    if options.revision == "head":
        database = Database(url)
        try:
            ensure_first_admin(database, get_settings())
            ensure_telemetry_token(database, get_settings())
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
