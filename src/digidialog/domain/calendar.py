"""Norwegian working days and the answer deadline for a citizen's message.

The protocol sets no deadline; municipalities promise an answer by the end of
the next working day (weekends and public holidays excluded), in Oslo time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from digidialog.domain.timezone import OSLO, oslo_date, to_oslo


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NO", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Norwegian public holiday.

    The ``holidays`` package lists Sundays as holidays for Norway; weekends are
    excluded here anyway.
    """
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    while not is_working_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def answer_deadline(received_at: datetime) -> datetime:
    """End of the next working day after the message arrived, as an Oslo instant.

    A message that arrives on a Saturday is due at the end of Monday (or of
    Tuesday if Monday is a holiday): the next working day after the day it
    arrived.
    """
    due_day = next_working_day(oslo_date(received_at))
    return datetime.combine(due_day + timedelta(days=1), time(0, 0), tzinfo=OSLO)


def is_overdue(received_at: datetime, now: datetime, *, answered: bool) -> bool:
    """Whether an unanswered message has passed its deadline at ``now``."""
    return not answered and to_oslo(now) >= answer_deadline(received_at)
