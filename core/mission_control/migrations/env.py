"""Alembic environment: runs migrations online against the configured database."""

from alembic import context

from mission_control.db import make_engine
from mission_control import (  # noqa: F401  (register their tables)
    alert_models, auth_models, authority_models, batch_models, pass_models, progress_models,
    registry_models, robot_models, stack_models, telemetry_models,
)
from mission_control.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
