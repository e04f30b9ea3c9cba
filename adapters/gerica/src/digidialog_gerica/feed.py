"""Gerica's change feed (``HentEndringerSvar``) as domain events.

Each ``Endring`` has a strictly increasing ``Sekvens``, which becomes the
event id (``gerica:<Sekvens>``: the sync engine de-duplicates on it) and, as
a string, the checkpoint. Its payload becomes one event:

- ``Avtale``: :class:`AppointmentChanged`, or :class:`VisitCompleted` when its
  Status is UTFORT (a visit registered done);
- ``Melding``: :class:`StaffMessageWritten`;
- ``Avbestillingssvar``: :class:`CancellationDecided`.

An ``Endring`` that cannot be understood (a broken value, a payload that
does not match its Type) is reported back as skipped, with its Sekvens and
the reason, instead of failing the whole batch: the feed is history that
will not change on a retry, and one bad entry must not block every later
one. A batch whose Sekvens values cannot be read or do not increase is a
:class:`MalformedReply`, since no checkpoint could then be trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import AppointmentStatus, CancellationDecision, CancellationOutcome
from digidialog.domain.events import (
    AppointmentChanged,
    CancellationDecided,
    EpjEvent,
    StaffMessage,
    StaffMessageWritten,
    VisitCompleted,
)
from digidialog.errors import MalformedReply
from digidialog_gerica.appointments import read_avtaler
from digidialog_gerica.mapping import children_text, required
from digidialog_gerica.wire import NS, parse_boolean, parse_instant, parse_integer

CitizenOfCancellation = Callable[[str, tuple[str, ...]], str | None]
"""Who a cancellation concerned, from its id and the visits it names (None if unknown).

Gerica's ``Avbestillingssvar`` does not repeat the citizen; the adapter knows
it from the cancellations it registered and the visits it has seen."""

_ENDRING = NS + "Endring"
_PAYLOADS = {
    "AVTALE": NS + "Avtale",
    "MELDING": NS + "Melding",
    "AVBESTILLINGSSVAR": NS + "Avbestillingssvar",
}
_MELDING_FIELDS = ("MeldingId", "TradId", "SvarPaMeldingId", "TjenesteKode", "Fodselsnummer",
                   "Emne", "Tekst", "Forfatter", "Sendt", "Midlertidig")


def event_id(sequence: int) -> str:
    """The event id of the Endring with this Sekvens."""
    return f"gerica:{sequence}"


@dataclass
class FeedPage:
    """One HentEndringer answer, read."""

    events: list[EpjEvent] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)
    """The Sekvens of every Endring, read or skipped, in order."""
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """Endringer that could not be used: their Sekvens and why."""
    head: int = 0
    """SisteSekvens: the newest Sekvens Gerica holds."""


def read_feed(
    svar: etree._Element,
    service_names: Mapping[str, str],
    citizen_of: CitizenOfCancellation,
    remember_visit: Callable[[str, str], None] | None = None,
) -> FeedPage:
    """A ``HentEndringerSvar`` as events, in Sekvens order."""
    page = FeedPage()
    for endring in svar.iterchildren(_ENDRING):
        values = children_text(endring, ("Sekvens", "Tidspunkt", "Type"))
        sequence = parse_integer(values["Sekvens"], "Endring/Sekvens")
        if page.sequences and sequence <= page.sequences[-1]:
            raise MalformedReply("Gerica sent Endring/Sekvens values that do not increase")
        page.sequences.append(sequence)
        try:
            page.events.append(_event(endring, sequence, values, service_names, citizen_of,
                                      remember_visit))
        except MalformedReply as error:
            page.skipped.append((sequence, str(error)))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            page.skipped.append((sequence, f"the domain refuses it ({where}: {first['msg']})"))
    head = children_text(svar, ("SisteSekvens",))["SisteSekvens"]
    page.head = parse_integer(head, "HentEndringerSvar/SisteSekvens")
    return page


def _event(
    endring: etree._Element,
    sequence: int,
    values: dict[str, str | None],
    service_names: Mapping[str, str],
    citizen_of: CitizenOfCancellation,
    remember_visit: Callable[[str, str], None] | None,
) -> EpjEvent:
    kind = (values["Type"] or "").strip()
    tag = _PAYLOADS.get(kind)
    if tag is None:
        raise MalformedReply("Gerica sent an Endring of an unknown Type")
    payload = next(endring.iterchildren(tag), None)
    if payload is None:
        raise MalformedReply(f"Gerica sent an Endring of Type {kind} without its {tag[len(NS):]}")
    when = parse_instant(values["Tidspunkt"], "Endring/Tidspunkt")
    ident = event_id(sequence)
    if kind == "AVTALE":
        details: list[tuple[str, str | None]] = []
        (appointment,) = read_avtaler((payload,), service_names, details)
        citizen_id = details[0][0]
        if remember_visit is not None:
            remember_visit(appointment.uid, citizen_id)
        if appointment.status is AppointmentStatus.COMPLETED:
            return VisitCompleted(event_id=ident, occurred_at=when, citizen_id=citizen_id,
                                  appointment=appointment)
        return AppointmentChanged(event_id=ident, occurred_at=when, citizen_id=citizen_id,
                                  appointment=appointment)
    if kind == "MELDING":
        return _staff_message(payload, ident, when)
    return _decision(payload, ident, when, citizen_of)


def _staff_message(melding: etree._Element, ident: str, when: datetime) -> StaffMessageWritten:
    values = children_text(melding, _MELDING_FIELDS)
    citizen_id = required(values, "Fodselsnummer", "Melding")
    message = StaffMessage(
        vendor_message_id=required(values, "MeldingId", "Melding"),
        thread_id=values["TradId"] or None,
        in_reply_to=values["SvarPaMeldingId"] or None,
        service_code=required(values, "TjenesteKode", "Melding"),
        citizen_id=citizen_id,
        subject=values["Emne"] or None,
        body=values["Tekst"] or "",
        author=values["Forfatter"] or None,
        sent_at=parse_instant(values["Sendt"], "Melding/Sendt"),
        interim=parse_boolean(values["Midlertidig"], "Melding/Midlertidig"),
    )
    return StaffMessageWritten(event_id=ident, occurred_at=when, citizen_id=citizen_id,
                               message=message)


def _decision(
    svar: etree._Element, ident: str, when: datetime, citizen_of: CitizenOfCancellation
) -> CancellationDecided:
    values = children_text(svar, ("AvbestillingId", "Akseptert", "Kommentar"))
    request_id = required(values, "AvbestillingId", "Avbestillingssvar")
    affected = tuple(
        uid.text or ""
        for berorte in svar.iterchildren(NS + "BerorteAvtaler")
        for uid in berorte.iterchildren(NS + "AvtaleId")
    )
    accepted = parse_boolean(values["Akseptert"], "Avbestillingssvar/Akseptert")
    # None when this adapter has not seen the cancellation (after a restart, or another
    # daemon registered it): the engine knows whose it was from the request id.
    citizen_id = citizen_of(request_id, affected)
    decision = CancellationDecision(
        request_id=request_id,
        outcome=CancellationOutcome.ACCEPTED if accepted else CancellationOutcome.REJECTED,
        affected_uids=affected,
        comment=values["Kommentar"] or None,
    )
    return CancellationDecided(event_id=ident, occurred_at=when, citizen_id=citizen_id,
                               decision=decision)
