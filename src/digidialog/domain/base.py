"""Shared building blocks of the domain models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base of every domain model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(BaseModel):
    """The answer of a rule: allowed or not, and why not."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(allowed=True)
