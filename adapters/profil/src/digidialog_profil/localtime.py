"""Profil's clock: Oslo wall-clock text with ``isDst``, to and from instants.

Profil sends and expects local Europe/Oslo times with no offset. In the hour
repeated when summer time ends, ``isDst="true"`` is the first pass (summer
time) and ``isDst="false"`` the second; without the attribute such a time is
the first pass. A time in the hour skipped when summer time starts does not
exist: Profil answers it with ``p:Invalid``, so we refuse to send one, and a
reply holding one is broken.

The conversion is the domain's one Oslo wall-clock conversion
(:func:`digidialog.domain.timezone.from_oslo_wall_clock_text`).
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from digidialog.domain.timezone import (
    from_oslo_wall_clock_text,
    is_ambiguous_local,
    is_nonexistent_local,
    is_second_occurrence,
    to_oslo,
)
from digidialog.errors import InvalidRequest, MalformedReply

_FALSE = frozenset({"false", "0"})
_TRUE = frozenset({"true", "1"})


def local_instant(element: etree._Element) -> datetime:
    """A Profil timestamp element (text and ``isDst``) as a UTC instant.

    Raises :class:`MalformedReply` for text that is not an offset-free local
    time (``YYYY-MM-DDTHH:MM:SS``, fractions allowed) and for a time in the
    skipped spring hour. ``isDst`` is read only in the repeated autumn hour,
    the one place it means anything.
    """
    text = element.text or ""
    if len(text) < 19:  # seconds are required; the domain checks the rest of the shape
        raise MalformedReply("a timestamp is not a local date and time (YYYY-MM-DDTHH:MM:SS)")
    try:
        return from_oslo_wall_clock_text(text, _first_pass(element.get("isDst"), text))
    except ValueError as error:
        raise MalformedReply(f"a timestamp is refused: {error}") from None


def _first_pass(is_dst: str | None, text: str) -> bool:
    """What ``isDst`` says: the first pass (summer time) unless it is false; no attribute
    means the first pass. Nonsense is refused only where it would decide something."""
    if is_dst is None or is_dst in _TRUE:
        return True
    if is_dst in _FALSE:
        return False
    try:
        ambiguous = is_ambiguous_local(datetime.fromisoformat(text))
    except ValueError:
        return True  # the text itself is refused next
    if ambiguous:
        raise MalformedReply("isDst is not a boolean")
    return True


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
