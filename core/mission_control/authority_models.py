"""The table of command authority (docs/authority.md): who holds exclusive control of a
target, and until when. One row per target (the primary key), so two holders cannot exist;
a row whose lease expired counts as free and is taken over in place (authority.take)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base
from .timeutil import UTCDateTime


class TargetControl(Base):
    __tablename__ = "target_controls"

    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"),
                                           primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
