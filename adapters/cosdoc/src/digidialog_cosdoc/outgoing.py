"""What digidialog sends to CosDoc: request documents, one function per command.

Each function returns the Latin-1 document for ``Utfor/Dokument``, with
children in the order vendors.md lists them. Patients are always named by
PasientNr here: the national id appears only in FINN_PASIENT and in
``PaVegneAv`` (whoever wrote on the citizen's behalf).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from digidialog.adapters.contract import CitizenMessage
from digidialog.domain import CancellationKind, CancellationRequest
from digidialog_cosdoc.documents import Field, build
from digidialog_cosdoc.localtime import local_fields
from digidialog_cosdoc.wire import PAGE_SIZE, Kommando, jn


def finn_pasient(national_id: str) -> bytes:
    """FINN_PASIENT: the PasientNr of a national id."""
    return build(Kommando.FINN_PASIENT, [("Fodselsnummer", national_id)])


def tjenester() -> bytes:
    """TJENESTER: every service (an empty request document)."""
    return build(Kommando.TJENESTER, [])


def pasienter(after: int) -> bytes:
    """PASIENTER: the next page of patients after PasientNr ``after`` (0 for the first)."""
    return build(Kommando.PASIENTER, [("EtterPasientNr", after)])


def digital_status(updates: Sequence[tuple[int, bool, date]]) -> bytes:
    """DIGITAL_STATUS: ``(PasientNr, active, since)`` for each patient."""
    return build(Kommando.DIGITAL_STATUS, [
        ("Pasient", [("PasientNr", nr), ("Aktiv", jn(active)), ("Fra", since.isoformat())])
        for nr, active, since in updates
    ])


def avtaler(pasient_nr: int, first: date, last: date) -> bytes:
    """AVTALER: a patient's appointments from ``first`` to ``last`` (dates, inclusive)."""
    return build(Kommando.AVTALER, [
        ("PasientNr", pasient_nr), ("FraDato", first.isoformat()), ("TilDato", last.isoformat()),
    ])


def eksport_avtaler(day: date) -> bytes:
    """EKSPORT_AVTALER: the nightly export of every digitally active patient's day."""
    return build(Kommando.EKSPORT_AVTALER, [("Dato", day.isoformat())])


def hendelser(after: int, most: int) -> bytes:
    """HENDELSER: events after Id ``after``, at most ``most`` (capped at 1000)."""
    return build(Kommando.HENDELSER, [("EtterId", after), ("Maks", max(1, min(most, PAGE_SIZE)))])


def hent(kommando: Kommando, ref: str) -> bytes:
    """HENT_AVTALE, HENT_MELDING or HENT_AVBESTILLINGSSVAR: the details behind a Ref."""
    return build(kommando, [("Ref", ref)])


def send_melding(message: CitizenMessage, pasient_nr: int) -> bytes:
    """SEND_MELDING: a citizen's message; EksternId is our message id (idempotency key)."""
    sent_day, sent_clock = local_fields(message.sent_at)
    proxy = message.on_behalf_of
    return build(Kommando.SEND_MELDING, [
        ("EksternId", message.message_id),
        ("TradId", message.thread_id),
        ("SvarPa", message.in_reply_to),
        ("TjenesteId", message.service_code),
        ("PasientNr", pasient_nr),
        ("Emne", message.subject or ""),
        ("Tekst", message.body),
        ("Sendt", [("Dato", sent_day), ("Kl", sent_clock)]),
        ("PaVegneAv", None if proxy is None else [
            ("Fodselsnummer", proxy.person.national_id), ("Navn", proxy.person.full_name),
        ]),
    ])


def avbestill(request: CancellationRequest, pasient_nr: int, services: Sequence[str]) -> bytes:
    """AVBESTILL: one appointment (AvtaleNr) or a period for ``services``, natively.

    A period starts at the minute it starts (seconds dropped) and ends at the
    minute it ends, rounded up, so it never covers less than asked. CosDoc has
    no field for who asked on the citizen's behalf, so ``requested_by`` is not sent.
    """
    where: list[Field]
    if request.kind is CancellationKind.SINGLE:
        where = [("AvtaleNr", request.appointment_uid)]
    else:
        from_day, from_clock = local_fields(request.start)
        to_day, to_clock = local_fields(request.end, round_up=True)
        where = [("FraDato", from_day), ("FraKl", from_clock),
                 ("TilDato", to_day), ("TilKl", to_clock)]
    return build(Kommando.AVBESTILL, [
        ("EksternId", request.request_id),
        ("PasientNr", pasient_nr),
        *where,
        *(("TjenesteId", service) for service in services),
        ("Grunn", request.reason),
    ])
