"""Profil's clock: Oslo wall-clock text with ``isDst``, to and from instants.

Profil sends and expects local Europe/Oslo times with no offset. In the hour
repeated when summer time ends, ``isDst="true"`` is the first pass (summer
time) and ``isDst="false"`` the second; without the attribute such a time is
the first pass. A time in the hour skipped when summer time starts does not
exist: Profil answers it with ``p:Invalid``, so we refuse to send one, and a
reply holding one is broken.

The decisions themselves are :mod:`digidialog.domain.timezone`'s; this module
only memoises them per local hour, because a 500-visit reply holds a thousand
timestamps and the zone lookup is most of their cost. The memo is exact
because Europe/Oslo changes its offset only on whole hours (a test walks every
transition in the tz database to keep that true).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from digidialog.domain.timezone import (
    from_oslo_wall_clock,
    is_ambiguous_local,
    is_nonexistent_local,
    is_second_occurrence,
    to_oslo,
)
from digidialog.errors import InvalidRequest, MalformedReply

_FALSE = frozenset({"false", "0"})
_TRUE = frozenset({"true", "1"})
# Two marks, told apart from real offsets by identity (is), never by value.
_SKIPPED = timedelta(0)  # the hour skipped in spring
_AMBIGUOUS = timedelta(-1)  # the repeated autumn hour: isDst decides

# Local hour ("YYYY-MM-DDTHH") -> its UTC offset, or one of the two marks above.
_offsets: dict[str, timedelta] = {}
_MEMO_LIMIT = 100_000


def local_instant(element: etree._Element) -> datetime:
    """A Profil timestamp element (text and ``isDst``) as a UTC instant.

    Raises :class:`MalformedReply` for text that is not an offset-free local
    time (``YYYY-MM-DDTHH:MM:SS``, fractions allowed) and for a time in the
    skipped spring hour. ``isDst`` is read only in the repeated autumn hour,
    the one place it means anything.
    """
    text = element.text or ""
    try:
        offset = _offsets[text[:13]]
    except KeyError:
        offset = _learn(text)
    if offset is _AMBIGUOUS:
        offset = _autumn_offset(text, element.get("isDst"))
    elif offset is _SKIPPED:
        raise MalformedReply("a timestamp falls in the hour skipped when summer time starts")
    if len(text) < 19:
        raise MalformedReply("a timestamp lacks its seconds")
    try:
        # Read as if it were UTC, then take the hour's offset away. A text that carries
        # its own offset or a Z cannot be read with a second one, so it is refused here.
        return datetime.fromisoformat(text + "+00:00") - offset
    except ValueError:
        raise MalformedReply("a timestamp is not an offset-free local date and time") from None


def _learn(text: str) -> timedelta:
    """The offset (or mark) of a timestamp's local hour, remembered for the next one."""
    if len(text) < 19 or text[4] != "-" or text[10] != "T" or text[13] != ":":
        raise MalformedReply("a timestamp is not a local date and time (YYYY-MM-DDTHH:MM:SS)")
    try:
        hour = datetime.fromisoformat(text[:13] + ":00:00")
    except ValueError:
        raise MalformedReply("a timestamp is not a valid date and time") from None
    if is_nonexistent_local(hour):
        offset = _SKIPPED
    elif is_ambiguous_local(hour):
        offset = _AMBIGUOUS
    else:
        offset = hour - from_oslo_wall_clock(hour).replace(tzinfo=None)
    if len(_offsets) >= _MEMO_LIMIT:
        _offsets.clear()
    _offsets[text[:13]] = offset
    return offset


def _autumn_offset(text: str, is_dst: str | None) -> timedelta:
    if is_dst is None or is_dst in _TRUE:
        first = True  # Profil: no attribute in that hour means the first pass
    elif is_dst in _FALSE:
        first = False
    else:
        raise MalformedReply("isDst is not a boolean")
    hour = datetime.fromisoformat(text[:13] + ":00:00")
    return hour - from_oslo_wall_clock(hour, first_occurrence=first).replace(tzinfo=None)


def to_wire(value: datetime) -> tuple[str, bool | None]:
    """An instant as Profil's local text and ``isDst`` (``None`` outside the repeated hour).

    Raises :class:`InvalidRequest`, before anything is sent, for a naive
    datetime (no instant) and for an Oslo wall-clock time in the skipped
    spring hour (``datetime(2026, 3, 29, 2, 30, tzinfo=OSLO)``), which Profil
    would refuse and Python would silently move.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequest("a time without a time zone cannot be sent to Profil")
    local = to_oslo(value)
    naive = local.replace(tzinfo=None)
    if is_nonexistent_local(naive):
        raise InvalidRequest("the time falls in the hour skipped when summer time starts")
    is_dst = None
    if is_ambiguous_local(naive):
        is_dst = not is_second_occurrence(value)
    return naive.isoformat(), is_dst


def wire_param(value: datetime) -> str | dict[str, object]:
    """An instant as the parameter zeep needs for a ``p:LocalDateTime`` element."""
    text, is_dst = to_wire(value)
    if is_dst is None:
        return text
    return {"_value_1": text, "isDst": is_dst}
