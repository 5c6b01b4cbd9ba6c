"""Fleet-wide commands (issue 12): a batch groups the telecommands one request sent to many
robots or modules. Each command keeps its own lifecycle; the batch row only remembers what was
asked (the command, its arguments, the targets' selector if one was used) and how many
commands it created. Its roll-up is counted from ``telecommands.batch_id`` when read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base
from .timeutil import UTCDateTime, utcnow


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    command_name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # With a selector: the name of the module each selected robot's command went to (None: the
    # robots themselves). With a list of targets each id says what it is, and this stays None.
    module: Mapped[str | None] = mapped_column(String(64), default=None)
    selector: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    count: Mapped[int] = mapped_column(Integer)
