"""Time zones: store UTC, present Europe/Oslo, and never guess.

Every timestamp in the domain is timezone-aware. Local Norwegian wall-clock
times (what xCal and two of the three vendors send) are turned into instants
here and only here, with the daylight-saving edge cases spelled out: the hour
repeated when summer time ends is ambiguous, the hour skipped when it starts
does not exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, PlainSerializer

OSLO = ZoneInfo("Europe/Oslo")
_ONE_HOUR = timedelta(hours=1)


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is UTC:  # how the domain stores instants: the common case, checked first
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (naive local times are ambiguous)")
    return value


def _as_utc(value: datetime) -> datetime:
    # Stored in UTC: Python compares and subtracts datetimes that share a tzinfo by their
    # wall clock, ignoring fold, which would misorder the two passes of the autumn hour.
    if value.tzinfo is UTC:
        return value
    return _require_aware(value).astimezone(UTC)


def _present(value: datetime) -> str:
    return value.astimezone(OSLO).isoformat()


AwareDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(_present, return_type=str, when_used="json"),
]
"""An instant: must carry its time zone, is stored in UTC, and is shown on the Oslo clock."""


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC."""
    return _require_aware(value).astimezone(UTC)


def to_oslo(value: datetime) -> datetime:
    """The same instant on the Oslo clock."""
    return _require_aware(value).astimezone(OSLO)


def oslo_date(value: datetime) -> date:
    """The calendar date in Oslo at instant ``value``."""
    return to_oslo(value).date()


def _one_reading(local: datetime) -> bool:
    # Whether both folds of this wall-clock time have the same UTC offset, which is
    # true everywhere but in the spring gap and the autumn fold. zoneinfo reads only
    # the wall-clock fields and fold, so this settles nearly every time cheaply.
    other = local.replace(fold=1 - local.fold)
    return OSLO.utcoffset(local) == OSLO.utcoffset(other)


def is_ambiguous_local(local: datetime) -> bool:
    """Whether this Oslo wall-clock time happens twice (end of summer time)."""
    return not _one_reading(local) and not is_nonexistent_local(local)


def is_nonexistent_local(local: datetime) -> bool:
    """Whether this Oslo wall-clock time never happens (start of summer time)."""
    naive = local.replace(tzinfo=None)
    aware = naive.replace(tzinfo=OSLO)
    return aware.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) != naive


_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - the wall-clock origin on purpose
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=65536)
def _unique_origin(year: int, month: int, day: int, hour: int) -> datetime | None:
    """Where the wall-clock origin lies for this Oslo hour, if every time in it happens once.

    That is 1970-01-01 00:00 shifted by Oslo's UTC offset in the hour, so that
    ``_UTC_EPOCH + (wall - origin)`` is the instant: two timedelta operations,
    several times cheaper than ``(wall - offset).replace(tzinfo=UTC)`` (a
    ``replace`` alone costs more than parsing the timestamp). Oslo's clock
    changes fall on whole hours, so one look-up serves the hour.
    """
    start = datetime(year, month, day, hour)  # noqa: DTZ001 - a wall-clock time on purpose
    end = start.replace(minute=59, second=59, microsecond=999999)
    offsets = {OSLO.utcoffset(t.replace(fold=f)) for t in (start, end) for f in (0, 1)}
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return None if offset is None else _NAIVE_EPOCH + offset


def from_oslo_wall_clock(
    local: datetime, *, first_occurrence: bool = True, shift_skipped: bool = False
) -> datetime:
    """Turn an Oslo wall-clock time into an instant (in UTC).

    In the repeated autumn hour, ``first_occurrence`` picks summer time (the
    first pass) or winter time (the second). A time in the skipped spring hour
    does not exist and is refused with a :class:`ValueError` rather than
    silently moved; with ``shift_skipped`` it is read on the clock as it was
    before the change, which lands as far after the gap as it was into it
    (02:30 becomes 03:30 summer time).

    This is the one conversion from the Oslo wall clock: xCal and the vendors
    that speak local time (Profil, CosDoc) all read their times through it.
    """
    naive = local if local.tzinfo is None else local.replace(tzinfo=None)
    origin = _unique_origin(naive.year, naive.month, naive.day, naive.hour)
    if origin is not None:
        # The time happens exactly once (nearly always): skip the round trip through UTC.
        return _UTC_EPOCH + (naive - origin)
    if is_nonexistent_local(naive):
        if not shift_skipped:
            raise ValueError("local time falls in the hour skipped when summer time starts")
        # In a gap, fold=0 takes the offset from before the change (PEP 495).
        return naive.replace(tzinfo=OSLO, fold=0).astimezone(UTC)
    return naive.replace(tzinfo=OSLO, fold=0 if first_occurrence else 1).astimezone(UTC)


@lru_cache(maxsize=16384)
def from_oslo_wall_clock_text(
    text: str, first_occurrence: bool = True, shift_skipped: bool = False
) -> datetime:
    """:func:`from_oslo_wall_clock` of an ISO 8601 local date and time.

    The text is ``YYYY-MM-DDTHH:MM``, with seconds and a fraction if need be,
    and no offset; anything else (the basic or week-date forms Python also
    reads, a space for the ``T``, an offset) is a :class:`ValueError` naming
    no value, as is a time :func:`from_oslo_wall_clock` refuses. Remembered by
    text: the vendors that speak local time send the same few thousand times
    over and over (a nightly read repeats each day's visit times for every
    citizen), and converting one costs as much as the rest of reading an
    appointment's times; the benchmark reads CosDoc's and Profil's replies
    some 15 to 20 % faster for it.
    """
    if len(text) < 16 or text[4] != "-" or text[7] != "-" or text[10] != "T" or (
            text[13] != ":"):
        raise ValueError("not an ISO 8601 local date and time (YYYY-MM-DDTHH:MM)")
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 local date and time (YYYY-MM-DDTHH:MM)") from None
    if local.tzinfo is not None:
        raise ValueError("a local time carries no offset")
    return from_oslo_wall_clock(
        local, first_occurrence=first_occurrence, shift_skipped=shift_skipped)


def is_second_occurrence(value: datetime) -> bool:
    """Whether an instant is the second pass through a repeated Oslo hour."""
    local = to_oslo(value)
    return local.utcoffset() == _ONE_HOUR and is_ambiguous_local(local)
