"""CosDoc answer documents to domain objects, straight from the lxml tree.

Each reader takes one element (a ``Pasient``, a ``Hendelse``, ...) and
returns the domain object, reading the element's children once into a dict
keyed by tag, so a record costs one pass in C plus the domain model's own
validation. A record whose values cannot be used raises
:class:`UnusableRecord`, naming the record and the field, never the value;
callers decide whether that skips the record or fails the call.

Appointments, the hot path, are read by :mod:`digidialog_cosdoc.appointments`.
The mapping of the other records' fields:

- ``Tjeneste``: Id is the service code, Digital J means open for digital dialog.
- ``Melding``: TjenesteKode is the service code, an empty Emne is no subject,
  Type the kind (absent or unknown: ``None``, derived from the thread).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from pydantic import ValidationError

from digidialog.adapters.contract import CitizenRecord, VendorService
from digidialog.adapters.kinds import StaffKindCodes
from digidialog.domain import (
    CancellationDecision,
    CancellationOutcome,
)
from digidialog.domain.events import StaffMessage, StaffMessageKind
from digidialog.errors import MalformedReply
from digidialog_cosdoc.localtime import instant
from digidialog_cosdoc.wire import HendelseType, d, read_jn


class UnusableRecord(MalformedReply):
    """One record of an answer holds a value the domain cannot take (named, not shown)."""


_PASIENT_NR, _TJENESTE_ID, _TEKST, _DATO = d("PasientNr"), d("TjenesteId"), d("Tekst"), d("Dato")
_ID, _NAVN, _DIGITAL, _FODSELSNUMMER, _TYPE, _REF = (
    d(n) for n in ("Id", "Navn", "Digital", "Fodselsnummer", "Type", "Ref"))


def _fields(element: etree._Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in element}


def unusable(record: str, error: Exception) -> UnusableRecord:
    """The error for a record whose ``error`` makes it unusable, naming fields, not values."""
    if isinstance(error, ValidationError):
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "?" for e in error.errors())
        return UnusableRecord(f"{record}: the domain refuses {fields}")
    if isinstance(error, KeyError):
        return UnusableRecord(f"{record}: {etree.QName(str(error.args[0])).localname} is missing")
    return UnusableRecord(f"{record}: {error}")


def read_id(text: str | None, name: str = "an id") -> str:
    """A CosDoc id (a long): digits, without leading zeros, so "007" and "7" are one id;
    a :class:`ValueError` naming ``name`` otherwise."""
    if text is None or not text.isdigit() or len(text) > 19:
        raise ValueError(f"{name} is not a number")
    return text if text[0] != "0" else str(int(text))


def read_tjeneste(element: etree._Element) -> VendorService:
    """A ``Tjeneste`` as a :class:`VendorService`; its Id is the service code."""
    f = _fields(element)
    try:
        return VendorService(code=read_id(f[_ID]), name=f[_NAVN] or "",
                             open_for_dialog=read_jn(f[_DIGITAL]))
    except (KeyError, ValueError, ValidationError) as error:
        raise unusable("Tjeneste", error) from None


def read_pasient(element: etree._Element) -> tuple[int, CitizenRecord]:
    """A ``Pasient`` (PASIENTER) as ``(PasientNr, CitizenRecord)``."""
    f = _fields(element)
    nr = f.get(_PASIENT_NR)
    try:
        services = tuple(read_id(c.text) for c in element.iterchildren(_TJENESTE_ID))
        record = CitizenRecord(national_id=f[_FODSELSNUMMER] or "", name=f[_NAVN] or "",
                               service_codes=services, digitally_active=read_jn(f[_DIGITAL]))
        return int(read_id(nr)), record
    except (KeyError, ValueError, ValidationError) as error:
        raise unusable(f"Pasient {(nr or '?')[:20]}", error) from None


@dataclass(frozen=True)
class Hendelse:
    """One change-feed entry: what changed (``ref``) for which patient."""

    id: int
    type: HendelseType | None
    """``None`` for a type this adapter does not know (skipped, not failed)."""
    pasient_nr: int
    ref: str


def read_hendelse(element: etree._Element) -> Hendelse:
    """A ``Hendelse`` (HENDELSER)."""
    f = _fields(element)
    try:
        kind = f[_TYPE] or ""
        return Hendelse(
            id=int(read_id(f[_ID])),
            type=HendelseType(kind) if kind in HendelseType.__members__ else None,
            pasient_nr=int(read_id(f[_PASIENT_NR])),
            ref=(f[_REF] or "").strip(),
        )
    except (KeyError, ValueError) as error:
        raise unusable("Hendelse", error) from None


def read_melding(element: etree._Element, citizen_id: str) -> tuple[int, StaffMessage]:
    """A staff ``Melding`` (HENT_MELDING) as ``(PasientNr, StaffMessage)``."""
    f = _fields(element)
    try:
        sendt = element.find(d("Sendt"))
        if sendt is None:
            raise KeyError(d("Sendt"))
        sent_at = instant(sendt.findtext(_DATO) or "", sendt.findtext(d("Kl")) or "")
        melding_id = f[d("MeldingId")] or ""
        message = StaffMessage(
            vendor_message_id=melding_id,
            thread_id=f.get(d("TradId")) or None,
            in_reply_to=f.get(d("SvarPaMeldingId")) or None,
            service_code=read_id(f[d("TjenesteKode")]),
            citizen_id=citizen_id,
            subject=f[d("Emne")] or None,
            body=f[_TEKST] or "",
            author=f[d("Forfatter")] or None,
            sent_at=sent_at,
            interim=read_jn(f[d("Midlertidig")]),
            kind=read_melding_type(f.get(d("Type")), melding_id),
        )
        return int(read_id(f[_PASIENT_NR])), message
    except (KeyError, ValueError, ValidationError) as error:
        raise unusable("Melding", error) from None


MELDING_TYPES = StaffKindCodes({
    "SVAR": StaffMessageKind.ANSWER,
    "DIALOG": StaffMessageKind.DIALOG,
    "VARSEL": StaffMessageKind.NOTICE,
    "AVSLUTT": StaffMessageKind.CLOSING,
}, unknown_event="cosdoc.unknown_melding_type", id_key="melding_id")
"""Melding/Type codes and the kind of staff message each one is."""

read_melding_type = MELDING_TYPES.read
"""The kind a code names; ``None`` (derive it) when absent or unknown."""


def read_pasient_nr(root: etree._Element) -> int:
    """The PasientNr of a FINN_PASIENT answer."""
    try:
        return int(read_id(root.findtext(_PASIENT_NR)))
    except ValueError as error:
        raise unusable("FINN_PASIENT", error) from None


def read_ref(root: etree._Element) -> str:
    """The Ref of a SEND_MELDING or AVBESTILL answer."""
    ref = (root.findtext(_REF) or "").strip()
    if not ref:
        raise UnusableRecord(f"{etree.QName(root).localname}: Ref is missing")
    return ref


def read_avbestillingssvar(root: etree._Element) -> CancellationDecision:
    """A HENT_AVBESTILLINGSSVAR answer as the decision on our cancellation."""
    f = _fields(root)
    try:
        accepted = read_jn(f[d("Akseptert")])
        return CancellationDecision(
            request_id=f[d("EksternId")] or "",
            outcome=CancellationOutcome.ACCEPTED if accepted else CancellationOutcome.REJECTED,
            affected_uids=tuple(read_id(c.text) for c in root.iterchildren(d("AvtaleNr"))),
            comment=f.get(d("Kommentar")) or None,
        )
    except (KeyError, ValueError, ValidationError) as error:
        raise unusable("HENT_AVBESTILLINGSSVAR", error) from None
