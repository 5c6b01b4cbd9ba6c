"""Contact windows ("passes") of a target: commands for a target that has any are transmitted
only inside one (rules in passes.py, docs/lifecycle.md "Time tags and contact windows")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId
from .timeutil import UTCDateTime


class TargetPass(Base):
    """One contact window [start_at, end_at) of a target, in UTC."""

    __tablename__ = "target_passes"
    __table_args__ = (Index("ix_target_passes_target_start", "target_id", "start_at"),
                      CheckConstraint("start_at < end_at", name="ck_target_passes_order"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
