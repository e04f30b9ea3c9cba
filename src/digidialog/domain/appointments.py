"""Home-visit appointments in their four states, with time windows and recurrence.

- planned: a time window in which the visit will happen, an expected
  duration, usually a recurrence (DAILY or WEEKLY) with paused dates; no
  employee yet. Helsenorge shows it as ``TENTATIVE``.
- assigned: a work list has put the visit at an exact time with employees
  (``CONFIRMED``).
- completed: the visit was registered done, when and by whom, and what was
  done; pushed to the portal in real time (``COMPLETED``).
- cancelled: by the service, because the citizen was not at home, by the
  citizen, or by someone on the citizen's behalf (``CANCELLED``).

``uid`` identifies the appointment (or the series' occurrence), ``series`` is
the id of the series it belongs to (xCal ``related-to``), kept when times
change and echoed by cancellations.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from digidialog.domain.base import Frozen
from digidialog.domain.timezone import OSLO, AwareDatetime, to_oslo


class AppointmentStatus(StrEnum):
    """The four states of a home visit."""

    PLANNED = "planned"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CancellationReason(StrEnum):
    """Who cancelled a visit; the four values Helsenorge allows."""

    BY_SERVICE = "by_service"
    NOT_AT_HOME = "not_at_home"
    BY_CITIZEN = "by_citizen"
    ON_BEHALF_OF_CITIZEN = "on_behalf_of_citizen"


class Frequency(StrEnum):
    """Recurrence frequencies Helsenorge implements (monthly and yearly are not)."""

    DAILY = "DAILY"
    WEEKLY = "WEEKLY"


class Weekday(StrEnum):
    """RFC 5545 weekday codes, Monday first."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"

    @property
    def weekday_number(self) -> int:
        """Monday is 0, as in ``date.weekday()``."""
        return list(Weekday).index(self)


INTERVAL_MAX = 366
"""The largest interval of a recurrence, in days or weeks."""


def broken_recurrence_rule(fields: Mapping[str, Any]) -> str | None:
    """The first rule of :class:`Recurrence` that these values break, in words, or ``None``.

    ``fields`` are a recurrence's values by field name, typed as the model
    holds them. The model's own validator applies these rules, and so does
    :mod:`digidialog.modelbuild`: the rules are written here only.
    """
    if not 1 <= fields["interval"] <= INTERVAL_MAX:
        return f"interval must be a whole number 1 to {INTERVAL_MAX}"
    count = fields["count"]
    if count is not None and count < 1:
        return "count must be a whole number, at least 1"
    if fields["until"] is not None and count is not None:
        return "it ends by until or by count, not both"
    by_day = fields["by_day"]
    if len(set(by_day)) != len(by_day):
        return "by_day repeats a weekday"
    return None


class Recurrence(Frozen):
    """How a planned visit repeats: every ``interval`` days or weeks, on ``by_day``.

    ``paused`` holds the start of each occurrence that will not happen (one
    ``exdate`` each), e.g. while the citizen is in hospital.
    """

    frequency: Frequency
    interval: int = Field(default=1, ge=1, le=INTERVAL_MAX)
    by_day: tuple[Weekday, ...] = ()
    until: date | None = None
    count: int | None = Field(default=None, ge=1)
    paused: tuple[AwareDatetime, ...] = ()

    @model_validator(mode="after")
    def _until_or_count(self) -> Recurrence:
        broken = broken_recurrence_rule(vars(self))
        if broken is not None:
            raise ValueError(broken)
        return self

    def occurrences(self, first: datetime, limit: date) -> Iterator[datetime]:
        """Starts of the occurrences from ``first`` up to and including ``limit``.

        Stepping happens on the Oslo wall clock, so a 08:00 visit stays at
        08:00 across a daylight-saving change. Paused occurrences are skipped.
        """
        local_first = to_oslo(first)
        wall = local_first.replace(tzinfo=None)
        paused = {to_oslo(p).replace(tzinfo=None) for p in self.paused}
        days = (
            {d.weekday_number for d in self.by_day}
            if self.by_day
            else ({local_first.weekday()} if self.frequency is Frequency.WEEKLY else None)
        )
        step_days = self.interval if self.frequency is Frequency.DAILY else 1
        last = min(limit, self.until) if self.until else limit
        produced = 0
        week_zero = wall.date() - timedelta(days=wall.weekday())
        current = wall
        while current.date() <= last:
            in_week = (
                self.frequency is Frequency.DAILY
                or ((current.date() - week_zero).days // 7) % self.interval == 0
            )
            if in_week and (days is None or current.weekday() in days):
                produced += 1
                if self.count is not None and produced > self.count:
                    return
                if current not in paused:
                    yield current.replace(tzinfo=OSLO)
            current += timedelta(days=step_days)


UID_MAX_LENGTH = 255
"""The longest ``uid`` an appointment may have."""

_NO_TIME = timedelta(0)


def broken_appointment_rule(fields: Mapping[str, Any]) -> str | None:
    """The first rule of :class:`Appointment` that these values break, in words, or ``None``.

    ``fields`` are an appointment's values by field name, typed as the model
    holds them. The model's own validator applies these rules, and so does
    :mod:`digidialog.modelbuild` for the readers that build appointments
    without validating them a second time: the rules are written here only.
    """
    uid, status = fields["uid"], fields["status"]
    if not 0 < len(uid) <= UID_MAX_LENGTH:
        return f"uid must be 1 to {UID_MAX_LENGTH} characters"
    if fields["end"] < fields["start"]:
        return "end is before start"
    if fields["recurrence"] is not None and status is not AppointmentStatus.PLANNED:
        return "only planned visits recur"
    if fields["cancellation_reason"] is not None and status is not AppointmentStatus.CANCELLED:
        return "only cancelled visits have a cancellation reason"
    if fields["completed_at"] is not None and status is not AppointmentStatus.COMPLETED:
        return "only completed visits have a completion time"
    duration = fields["expected_duration"]
    if duration is not None and duration <= _NO_TIME:
        return "expected_duration must be positive"
    return None


class Appointment(Frozen):
    """One home visit (or a planned series of them) as the citizen sees it."""

    uid: str = Field(min_length=1, max_length=UID_MAX_LENGTH)
    series: str | None = Field(default=None, description="xCal related-to")
    status: AppointmentStatus
    start: AwareDatetime
    end: AwareDatetime
    service_id: str | None = Field(default=None, description="TjenesteId of the service")
    service_name: str | None = Field(default=None, description="shown as the summary")
    employees: tuple[str, ...] = ()
    expected_duration: timedelta | None = None
    recurrence: Recurrence | None = None
    cancellation_reason: CancellationReason | None = None
    description: str | None = None
    completed_at: AwareDatetime | None = None
    contact_her_id: str | None = Field(default=None, description="HER-id owning the appointment")
    organizer: str | None = None
    location: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Appointment:
        broken = broken_appointment_rule(vars(self))
        if broken is not None:
            raise ValueError(broken)
        return self

    @property
    def is_time_window(self) -> bool:
        """Planned visits give a window within which the visit happens."""
        return self.status is AppointmentStatus.PLANNED

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether this visit (its first occurrence) overlaps ``[start, end)``."""
        return self.start < end and start < self.end
