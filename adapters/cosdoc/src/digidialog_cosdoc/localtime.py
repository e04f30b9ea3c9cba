"""CosDoc's clock: a date and an ``HH:MM`` on the Oslo wall clock, with no DST flag.

CosDoc keeps dates and clock times as separate local fields and has no way
to say which pass through the repeated autumn hour it means. So:

- reading: an ambiguous time (02:00-02:59 on the last Sunday of October) is
  the *first* pass, summer time; a time that does not exist (02:00-02:59 on
  the last Sunday of March) is read as if the clock had not yet been put
  forward, which lands the same distance after the gap (02:30 -> 03:30
  summer time), so a vendor's odd value moves by the gap instead of failing
  a whole page;
- writing: the Oslo wall clock of the instant. An instant in the second pass
  is written with the same digits as the first pass (CosDoc reads it as the
  first pass: one hour earlier); nothing we send can fall in the spring gap,
  since it is made from a real instant.

The conversion is the domain's one Oslo wall-clock conversion
(:func:`digidialog.domain.timezone.from_oslo_wall_clock`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from digidialog.domain.timezone import from_oslo_wall_clock, from_oslo_wall_clock_text, to_oslo
from digidialog_cosdoc.wire import read_date

_ONE_MINUTE = timedelta(minutes=1)


def read_clock(text: str | None, *, seconds: bool = False) -> time:
    """``HH:MM`` (or ``HH:MM:SS`` when ``seconds``), strictly; a :class:`ValueError` otherwise."""
    size = 8 if seconds else 5
    if text is not None and len(text) == size and text[2] == ":" and (
            not seconds or text[5] == ":") and text.replace(":", "").isdigit():
        try:
            return time.fromisoformat(text)
        except ValueError:
            pass  # 24:00, 12:60: the same answer as a malformed time, without the value
    raise ValueError("a clock time is not HH:MM" + (":SS" if seconds else ""))


def wall_clock_instant(day: date, clock: time) -> datetime:
    """The instant (UTC) of an Oslo wall-clock time: first pass; a gap time moved past the gap."""
    return from_oslo_wall_clock(datetime.combine(day, clock), shift_skipped=True)


def instant(dato: str, kl: str) -> datetime:
    """The instant of CosDoc's ``Dato`` and ``HH:MM`` (or ``HH:MM:SS``), as
    :func:`wall_clock_instant` reads it; :class:`ValueError` if malformed."""
    # The domain checks the date and the rest of the shape (once per text: it is cached).
    if len(dato) != 10 or not (len(kl) == 5 or (len(kl) == 8 and kl[5] == ":")):
        raise ValueError("a date or clock time is not YYYY-MM-DD and HH:MM")
    # Positional flags (first pass, shift_skipped) keep the cached call cheap.
    return from_oslo_wall_clock_text(f"{dato}T{kl}", True, True)


def next_day(dato: str) -> str:
    """The day after a ``YYYY-MM-DD`` date, in the same spelling."""
    return (read_date(dato) + timedelta(days=1)).isoformat()


def local_fields(value: datetime, *, round_up: bool = False) -> tuple[str, str]:
    """``(Dato, Kl)`` of an instant on the Oslo wall clock, to the minute.

    Seconds are dropped, or, with ``round_up``, carried to the next minute, so
    that the end of a period is never moved earlier than asked.
    """
    utc = value.astimezone(UTC)
    if round_up and (utc.second or utc.microsecond):
        # In UTC, where adding a minute is never a wall-clock jump; Oslo's offsets are
        # whole hours, so its minutes line up with UTC's.
        utc = utc.replace(second=0, microsecond=0) + _ONE_MINUTE
    local = to_oslo(utc)
    return local.date().isoformat(), f"{local.hour:02d}:{local.minute:02d}"
