"""TjenesteOversikt: the full list of a citizen's open services, as sent to the portal.

Every message carries the complete list: the portal ends any service missing
from it, and an empty list ends them all for that municipality.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from digidialog.domain.base import Frozen

MUNICIPAL_HEALTH_AND_CARE = "1"


class OverviewEntry(Frozen):
    """One service in a citizen's overview."""

    service_id: str = Field(min_length=1, max_length=30)
    name: str = Field(min_length=1)
    her_id: str = Field(pattern=r"^\d{1,9}$", description="where dialog about it is addressed")
    start: date
    end: date | None = None
    area: str = MUNICIPAL_HEALTH_AND_CARE
    delivered_by: str | None = None
    phone: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> OverviewEntry:
        if self.end is not None and self.end < self.start:
            raise ValueError("the service ends before it starts")
        return self


class ServiceOverview(Frozen):
    """A citizen's complete list of open services."""

    citizen_id: str
    entries: tuple[OverviewEntry, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> ServiceOverview:
        ids = [e.service_id for e in self.entries]
        if len(set(ids)) != len(ids):
            raise ValueError("a service appears twice in the overview")
        return self
