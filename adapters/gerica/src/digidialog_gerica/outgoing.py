"""What digidialog sends to Gerica: domain objects into the parameters zeep serialises.

zeep builds each request from the WSDL, in the schema's element order, and
refuses parameters that do not fit it. Instants are passed as finished
strings on the Oslo clock with their offset (``2026-03-29T08:00:00+02:00``),
the form the contract shows, rather than leaving the offset to zeep.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationKind, CancellationRequest, OnBehalfOf
from digidialog.errors import FatalError, InvalidRequest
from digidialog_gerica.wire import MAX_CHANGES, MAX_PAGE_SIZE, format_date, format_instant


def digital_status(updates: Sequence[DigitalStatusUpdate]) -> dict[str, Any]:
    """OppdaterDigitalStatus: one ``Status`` per citizen."""
    return {"Status": [
        {"Fodselsnummer": u.national_id, "DigitalAktiv": u.active, "Fra": format_date(u.since)}
        for u in updates
    ]}


def appointments(citizen_id: str, start: datetime, end: datetime, page: int, size: int
                 ) -> dict[str, Any]:
    """HentAvtaler for one page."""
    for moment in (start, end):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidRequest("the period must be given as aware datetimes (naive local "
                                 "times are ambiguous)")
    return {
        "Fodselsnummer": citizen_id,
        "Fra": format_instant(start),
        "Til": format_instant(end),
        "Side": page,
        "SideStorrelse": max(1, min(size, MAX_PAGE_SIZE)),
    }


def changes(after: int, limit: int) -> dict[str, Any]:
    """HentEndringer after a Sekvens, at most ``limit`` (capped at Gerica's 1000)."""
    return {"EtterSekvens": after, "Maks": max(1, min(limit, MAX_CHANGES))}


def parse_checkpoint(checkpoint: str | None) -> int:
    """The Sekvens a checkpoint stands for (0, before the first, for None)."""
    if checkpoint is None or checkpoint == "":
        return 0
    if not checkpoint.isascii() or not checkpoint.isdigit():
        raise FatalError("the checkpoint is not a Gerica Sekvens (a non-negative integer)")
    return int(checkpoint)


def _person(who: OnBehalfOf) -> dict[str, str]:
    return {"Fodselsnummer": who.person.national_id, "Navn": who.person.full_name}


def message(message: CitizenMessage) -> dict[str, Any]:
    """LeverMelding: MeldingId is our message id, the idempotency key."""
    melding: dict[str, Any] = {
        "MeldingId": message.message_id,
        "TradId": message.thread_id,
        "SvarPaMeldingId": message.in_reply_to,
        "TjenesteKode": message.service_code,
        "Fodselsnummer": message.citizen_id,
        # Emne is required by Gerica; a message without a subject sends an empty one.
        "Emne": message.subject or "",
        "Tekst": message.body,
        "Sendt": format_instant(message.sent_at),
    }
    if message.on_behalf_of is not None:
        melding["PaVegneAv"] = _person(message.on_behalf_of)
    return {"Melding": melding}


def cancellation(request: CancellationRequest) -> dict[str, Any]:
    """RegistrerAvbestilling: one visit by AvtaleId, or a period for some services.

    Gerica cancels periods itself, so a period request is one call whatever
    the number of visits in it.
    """
    avbestilling: dict[str, Any] = {
        "AvbestillingId": request.request_id,
        "Fodselsnummer": request.citizen_id,
    }
    if request.kind is CancellationKind.SINGLE:
        avbestilling["AvtaleId"] = request.appointment_uid
    else:
        avbestilling["Periode"] = {"Fra": format_instant(request.start),
                                   "Til": format_instant(request.end)}
        avbestilling["TjenesteKode"] = list(request.service_ids)
    if request.reason:
        avbestilling["Begrunnelse"] = request.reason
    if request.requested_by is not None:
        avbestilling["InnsendtAv"] = _person(request.requested_by)
    return {"Avbestilling": avbestilling}
