"""``Avtale`` elements into domain Appointments: the hot path of every calendar read.

HentAvtaler answers hold up to 500 appointments a page, read every night for
every citizen. Each ``Avtale`` is read straight from the lxml tree, one pass
over its children (no zeep, no XPath); children the contract does not name
are ignored, so a newer Gerica adding one does not stop the sync. The values
are typed as the domain stores them (instants in UTC, enums from fixed
tables, a validated :class:`Recurrence`), and the Appointment is made by
:func:`digidialog.modelbuild.vendor_appointment`, which checks the model's
rules without running pydantic's validation a second time.

A missing or unreadable id, status or time, or a visit the domain refuses,
is a :class:`MalformedReply`. Errors name the element, never its content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from operator import itemgetter

from lxml import etree

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason, Recurrence
from digidialog.errors import MalformedReply
from digidialog.modelbuild import vendor_appointment
from digidialog_gerica.rrule import parse_rrule
from digidialog_gerica.wire import NS, parse_instant_utc

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
"""The children of an Avtale, in the contract's order."""
_TAGS = tuple(NS + name for name in AVTALE_CHILDREN)
_ANSATT, _NAVN = NS + "Ansatt", NS + "Navn"
_NO_TEXTS: dict[str, str | None] = dict.fromkeys(_TAGS)
_IN_CONTRACT_ORDER = itemgetter(*_TAGS)

PASSED = frozenset({
    "uid", "status", "start", "end", "service_id", "service_name", "employees", "recurrence",
    "cancellation_reason", "description", "completed_at",
})
"""The fields the reader passes, as ``model_fields_set`` after validation would hold them."""
_PASSED = set(PASSED)


@lru_cache(maxsize=512)
def recurrence(rule: str) -> Recurrence:
    """The recurrence of an RRULE; cached, since a municipality uses a handful of rules
    and a Recurrence is immutable."""
    return parse_rrule(rule)


def read_avtaler(
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
    made = []
    for avtale in avtaler:
        appointment, owner, changed = _read(avtale, service_names)
        if citizen_id is not None and owner != citizen_id:
            raise MalformedReply("Gerica answered with a visit of another citizen")
        made.append(appointment)
        if details is not None:
            details.append((owner, changed))
    return made


def _texts(avtale: etree._Element) -> tuple[str | None, ...]:
    """The text of each child the contract names, in its order (``None`` for one absent);
    Ansatt's is the text of its Navn. Other children are passed over."""
    texts = _NO_TEXTS.copy()
    for child in avtale:
        if child.tag == _ANSATT:
            texts[_ANSATT] = _navn(child)
        else:
            texts[child.tag] = child.text
    return _IN_CONTRACT_ORDER(texts)  # type: ignore[no-any-return]


def _navn(ansatt: etree._Element) -> str | None:
    for child in ansatt:
        if child.tag == _NAVN:
            return child.text
    return None


def _read(avtale: etree._Element, service_names: Mapping[str, str]
          ) -> tuple[Appointment, str, str | None]:
    """An Avtale's appointment, with its Fodselsnummer and Endret."""
    (uid, owner, code, status_text, start, end, rule, employee, description, done,
     cancelled_by, changed) = _texts(avtale)
    status_text = status_text or ""
    status = STATUSES.get(status_text) or STATUSES.get(status_text.strip())  # xs:token spaces
    if status is None:
        raise MalformedReply("Gerica sent an Avtale with an unknown or missing Status")
    if not uid or not owner or not code:
        raise MalformedReply(
            "Gerica sent an Avtale without AvtaleId, Fodselsnummer or TjenesteKode")
    reason = None
    if cancelled_by is not None:
        reason = CANCELLED_BY.get(cancelled_by.strip())
        if reason is None:
            raise MalformedReply("Gerica sent an unknown AvlystAv")
    appointment = vendor_appointment({
        "uid": uid,
        "series": None,
        "status": status,
        "start": parse_instant_utc(start, "Avtale/Start"),
        "end": parse_instant_utc(end, "Avtale/Slutt"),
        "service_id": code,
        "service_name": service_names.get(code),
        "employees": (employee,) if employee else (),
        "expected_duration": None,
        "recurrence": None if rule is None else recurrence(rule),
        "cancellation_reason": reason,
        "description": description,
        "completed_at": None if done is None else parse_instant_utc(
            done, "Avtale/UtfortTidspunkt"),
        "contact_her_id": None,
        "organizer": None,
        "location": None,
    }, _PASSED, "Gerica")
    return appointment, owner, changed
