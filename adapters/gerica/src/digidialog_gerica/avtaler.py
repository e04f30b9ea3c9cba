"""``Avtale`` elements into domain Appointments: the hot path, built to be lean.

HentAvtaler answers hold up to 500 appointments a page, read every night for
every citizen. Each ``Avtale`` is read in one pass over the elements below it
into fixed slots (no zeep, no XPath, no path lookups; an element the contract
does not name sends that Avtale to a careful reader that looks at its own
children only), its values are checked by the very rules the domain model
applies, and the Appointment is then made without running pydantic's
validation a second time. Instants in the usual form are read as UTC wall
time minus their offset, one datetime each.

Why not let pydantic validate: every value here is already typed by the
reader (strings from lxml, enums from fixed tables, aware datetimes, a
validated :class:`Recurrence`), so what pydantic would still check is small,
and validating costs more per appointment than parsing its XML. What it
would check is checked here, rule for rule:

- ``uid`` is 1 to 255 characters (``Field(min_length=1, max_length=255)``);
- instants carry an offset and are stored in UTC (``AwareDatetime``);
- ``Appointment._consistent``: the end is not before the start, only planned
  visits recur, only cancelled visits have a reason and only completed
  visits a completion time (the other fields it checks are never set here).

The instance is then made by :func:`digidialog.adapters.assemble.assemble`,
which falls back to pydantic's validation if the model's shape ever changes. A
test compares both paths on generated input.

Errors name the element, never its content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache

from lxml import etree

from digidialog.adapters.assemble import assemble
from digidialog.domain import Appointment, AppointmentStatus, CancellationReason, Recurrence
from digidialog.errors import MalformedReply
from digidialog_gerica.rrule import parse_rrule
from digidialog_gerica.wire import NS, OFFSETS, parse_instant_utc

STATUSES = {
    "PLANLAGT": AppointmentStatus.PLANNED,
    "TILDELT": AppointmentStatus.ASSIGNED,
    "UTFORT": AppointmentStatus.COMPLETED,
    "AVLYST": AppointmentStatus.CANCELLED,
}
CANCELLED_BY = {
    "BRUKER": CancellationReason.BY_CITIZEN,
    "TJENESTE": CancellationReason.BY_SERVICE,
}

AVTALE_CHILDREN = (
    "AvtaleId", "Fodselsnummer", "TjenesteKode", "Status", "Start", "Slutt", "Gjentakelse",
    "Ansatt", "Beskrivelse", "UtfortTidspunkt", "AvlystAv", "Endret",
)
_NAVN = NS + "Navn"
_ANSATT = AVTALE_CHILDREN.index("Ansatt")
# Slots of the one-pass reader, which walks every element below an Avtale: Ansatt's Navn
# fills the Ansatt slot, Ansatt's own text goes to a slot never read, and anything else
# lands in _UNKNOWN, whose marker then says "not the shape we know: read it carefully".
_ANSATT_TEXT = len(AVTALE_CHILDREN)
_UNKNOWN = _ANSATT_TEXT + 1
_UNTOUCHED = "\x00untouched"  # no XML text can hold a NUL
_WALK_SLOTS = {NS + name: slot for slot, name in enumerate(AVTALE_CHILDREN)}
_WALK_SLOTS[NS + "Ansatt"] = _ANSATT_TEXT
_WALK_SLOTS[_NAVN] = _ANSATT
_EMPTY: list[str | None] = [None] * _UNKNOWN + [_UNTOUCHED]
_CHILD_SLOTS = {NS + name: slot for slot, name in enumerate(AVTALE_CHILDREN)}

_PLANNED = AppointmentStatus.PLANNED
_CANCELLED = AppointmentStatus.CANCELLED
_COMPLETED = AppointmentStatus.COMPLETED

# The fields the reader always sets, so that model_fields_set is what validation gives.
PASSED = frozenset({
    "uid", "status", "start", "end", "service_id", "service_name", "employees", "recurrence",
    "cancellation_reason", "description", "completed_at",
})


# One set shared by every instance: pydantic only reads it on a frozen model (model_copy
# copies it before adding to it), and it is equal to the set validation would make.
_FIELDS_SET = set(PASSED)
# Employees repeat across visits; a tuple per name saves one object per appointment.
_TEAMS: dict[str | None, tuple[str, ...]] = {None: (), "": ()}
_fromiso = datetime.fromisoformat
_OFFSETS = OFFSETS
_UTC = "+00:00"


@lru_cache(maxsize=512)
def recurrence(rule: str) -> Recurrence:
    """The recurrence of an RRULE; cached, since a municipality uses a handful of rules
    and a Recurrence is immutable."""
    return parse_rrule(rule)


def read_avtaler(  # noqa: PLR0912 - the hot path is one loop: calls cost per Avtale
    avtaler: Iterable[etree._Element],
    service_names: Mapping[str, str],
    details: list[tuple[str, str | None]] | None = None,
    citizen_id: str | None = None,
) -> list[Appointment]:
    """Each ``Avtale`` as an Appointment; :class:`MalformedReply` for the first unusable one.

    ``details``, when given, receives each Avtale's Fodselsnummer and Endret
    text, which the change feed needs and the calendar does not. With
    ``citizen_id``, every Avtale must be that citizen's: a calendar showing
    someone else's visits would be worse than none.
    """
    made: list[Appointment] = []
    # Locals are the cheapest names in CPython; this loop runs once per element.
    slot_of, unknown, blank, offsets, fromiso = (
        _WALK_SLOTS.get, _UNKNOWN, _EMPTY.copy, _OFFSETS, _fromiso)
    status_of, team_of, name_of, fields_set = (
        STATUSES.get, _TEAMS.get, service_names.get, _FIELDS_SET)
    for avtale in avtaler:
        slots = blank()
        for element in avtale.iterdescendants():
            slots[slot_of(element.tag, unknown)] = element.text
        if slots[_UNKNOWN] is not _UNTOUCHED:
            slots = _read_children(avtale)
        (uid, owner, code, status_text, start_text, end_text, rule, employee, description,
         done_text, cancelled_text, changed_text, _ansatt, _unknown) = slots
        status = status_of(status_text)  # type: ignore[arg-type]
        if status is None and status_text:
            status = STATUSES.get(status_text.strip())  # xs:token whitespace is legal
        if status is None or not uid or not owner or not code:
            raise _incomplete(status)
        if citizen_id is not None and owner != citizen_id:
            raise MalformedReply("Gerica answered with a visit of another citizen")
        try:
            # The common xs:dateTime form, read as UTC wall time minus its offset: one
            # datetime each instead of three (see wire.parse_instant_utc).
            start = fromiso(start_text[:19] + _UTC) - offsets[start_text[19:]]  # type: ignore[index]
            end = fromiso(end_text[:19] + _UTC) - offsets[end_text[19:]]  # type: ignore[index]
        except (TypeError, ValueError, KeyError):
            start = parse_instant_utc(start_text, "Avtale/Start")
            end = parse_instant_utc(end_text, "Avtale/Slutt")
        if end < start:
            raise MalformedReply("Gerica sent an Avtale that ends before it starts")
        if len(uid) > 255:
            raise MalformedReply("Gerica sent an AvtaleId longer than 255 characters")
        recurs = None
        if rule is not None:
            if status is not _PLANNED:
                raise MalformedReply("Gerica sent a Gjentakelse on an Avtale that is not PLANLAGT")
            recurs = recurrence(rule)
        reason = None
        if cancelled_text is not None:
            reason = CANCELLED_BY.get(cancelled_text.strip())
            if reason is None or status is not _CANCELLED:
                raise MalformedReply("Gerica sent an unknown AvlystAv, or AvlystAv on an Avtale "
                                     "that is not AVLYST")
        completed = None
        if done_text is not None:
            if status is not _COMPLETED:
                raise MalformedReply("Gerica sent UtfortTidspunkt on an Avtale that is not UTFORT")
            completed = parse_instant_utc(done_text, "Avtale/UtfortTidspunkt")
        employees = team_of(employee)
        if employees is None:
            employees = _team(employee)
        appointment = assemble({
            "uid": uid, "series": None, "status": status, "start": start, "end": end,
            "service_id": code, "service_name": name_of(code), "employees": employees,
            "expected_duration": None, "recurrence": recurs, "cancellation_reason": reason,
            "description": description, "completed_at": completed, "contact_her_id": None,
            "organizer": None, "location": None,
        }, fields_set, "Gerica")
        made.append(appointment)
        if details is not None:
            details.append((owner, changed_text))
    return made


def _read_children(avtale: etree._Element) -> list[str | None]:
    """The careful reader, for an Avtale holding elements the contract does not name:
    only its own children count, and only Ansatt's Navn below them."""
    slots = _EMPTY.copy()
    for child in avtale:
        slot = _CHILD_SLOTS.get(child.tag)
        if slot == _ANSATT:
            slots[_ANSATT] = next((n.text for n in child if n.tag == _NAVN), None)
        elif slot is not None:
            slots[slot] = child.text
    return slots


def _team(employee: str | None) -> tuple[str, ...]:
    """The employees tuple for an Ansatt/Navn (none for an absent or empty one), kept for
    the next visit by the same employee; the cache is emptied when it grows large."""
    if not employee:
        return ()
    if len(_TEAMS) > 10_000:
        _TEAMS.clear()
        _TEAMS.update({None: (), "": ()})
    team = _TEAMS[employee] = (employee,)
    return team


def _incomplete(status: AppointmentStatus | None) -> MalformedReply:
    if status is None:
        return MalformedReply("Gerica sent an Avtale with an unknown or missing Status")
    return MalformedReply("Gerica sent an Avtale without AvtaleId, Fodselsnummer or TjenesteKode")
