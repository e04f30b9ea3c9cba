"""CosDoc answer documents to domain objects, straight from the lxml tree.

Each reader takes one element (an ``Avtale``, a ``Pasient``, ...) and
returns the domain object, reading the element's children once into a dict
keyed by tag, so a record costs one pass in C plus the domain model's own
validation. A record whose values cannot be used raises
:class:`UnusableRecord`, naming the record and the field, never the value;
callers decide whether that skips the record or fails the call.

The mapping of CosDoc's fields:

- ``Avtale``: Status P/T/U/A is planned/assigned/completed/cancelled; Dato
  FraKl-TilKl are Oslo wall-clock times (see :mod:`digidialog_cosdoc.localtime`;
  a TilKl earlier than FraKl ends the next day); Ansatt is the one employee
  (T and U); UtfortKl is the completion time on Dato, or on the next day
  when it is more than 12 hours before FraKl (a visit finished after
  midnight); AvlystAv P/T is cancelled by the citizen/by the service.
  ``Gjentas`` J marks one occurrence of a recurring planned visit: CosDoc sends
  no rule, so each occurrence is an appointment of its own, without recurrence.
- ``Tjeneste``: Id is the service code, Digital J means open for digital dialog.
- ``Melding``: TjenesteKode is the service code, an empty Emne is no subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree
from pydantic import ValidationError

from digidialog.adapters.contract import CitizenRecord, VendorService
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationDecision,
    CancellationOutcome,
    CancellationReason,
)
from digidialog.domain.events import StaffMessage
from digidialog.errors import MalformedReply
from digidialog.modelbuild import vendor_appointment
from digidialog_cosdoc.localtime import instant, next_day, read_clock
from digidialog_cosdoc.wire import HendelseType, d, read_date, read_jn

# The fields read_avtale passes, as model_fields_set after validation would hold them.
_FIELDS_SET = {"uid", "status", "start", "end", "service_id", "service_name", "employees",
               "description", "completed_at", "cancellation_reason"}


class UnusableRecord(MalformedReply):
    """One record of an answer holds a value the domain cannot take (named, not shown)."""


_STATUS: dict[str | None, AppointmentStatus] = {
    "P": AppointmentStatus.PLANNED,
    "T": AppointmentStatus.ASSIGNED,
    "U": AppointmentStatus.COMPLETED,
    "A": AppointmentStatus.CANCELLED,
}
_CANCELLED_BY = {"P": CancellationReason.BY_CITIZEN, "T": CancellationReason.BY_SERVICE}
_HALF_DAY = timedelta(hours=12)

(_NR, _PASIENT_NR, _TJENESTE_ID, _STATUS_TAG, _DATO, _FRA_KL, _TIL_KL, _GJENTAS, _ANSATT,
 _TEKST, _UTFORT_KL, _AVLYST_AV) = (d(n) for n in (
    "Nr", "PasientNr", "TjenesteId", "Status", "Dato", "FraKl", "TilKl", "Gjentas", "Ansatt",
    "Tekst", "UtfortKl", "AvlystAv"))
_ID, _NAVN, _DIGITAL, _FODSELSNUMMER, _TYPE, _REF = (
    d(n) for n in ("Id", "Navn", "Digital", "Fodselsnummer", "Type", "Ref"))
AVTALE = d("Avtale")


def _fields(element: etree._Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in element}


def _unusable(record: str, error: Exception) -> UnusableRecord:
    if isinstance(error, ValidationError):
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "?" for e in error.errors())
        return UnusableRecord(f"{record}: the domain refuses {fields}")
    if isinstance(error, KeyError):
        return UnusableRecord(f"{record}: {etree.QName(str(error.args[0])).localname} is missing")
    return UnusableRecord(f"{record}: {error}")


def read_avtale(element: etree._Element, service_names: Mapping[str, str]
                ) -> tuple[int, Appointment]:
    """An ``Avtale`` as ``(PasientNr, Appointment)``; ``uid`` is CosDoc's Nr.

    This is the hot path of AVTALER and of the nightly export, so it checks each
    field itself and builds the appointment with
    :func:`digidialog.modelbuild.vendor_appointment`.
    """
    f = {child.tag: child.text for child in element}
    get = f.get
    nr = get(_NR) or ""
    try:
        status = _STATUS[get(_STATUS_TAG)]
        dato = f[_DATO] or ""
        fra = f[_FRA_KL] or ""
        til = f[_TIL_KL] or ""
        start = instant(dato, fra)
        end = instant(dato, til)
        if end < start:
            end = instant(next_day(dato), til)
        if f[_GJENTAS] not in _JN:
            raise ValueError("Gjentas is not J/N")
        service = _service_codes.get(f[_TJENESTE_ID]) or _service_code(f[_TJENESTE_ID])
        if not (nr.isdigit() and len(nr) <= 19 and nr[0] != "0"):
            nr = _id(nr, "Nr")
        pasient_nr = _patient_numbers.get(f[_PASIENT_NR]) or _patient_number(f[_PASIENT_NR])
        employees: tuple[str, ...] = ()
        completed_at = cancellation_reason = None
        if status is _ASSIGNED or status is _COMPLETED:
            ansatt = get(_ANSATT)
            if ansatt:
                employees = (ansatt,)
            done = get(_UTFORT_KL)
            if done is not None and status is _COMPLETED:
                completed_at = _completed(dato, done, start)
        elif status is _CANCELLED:
            cancelled_by = get(_AVLYST_AV)
            if cancelled_by is not None:
                cancellation_reason = _CANCELLED_BY[cancelled_by]
        appointment = vendor_appointment({
            "uid": nr, "series": None, "status": status, "start": start, "end": end,
            "service_id": service, "service_name": service_names.get(service),
            "employees": employees, "expected_duration": None, "recurrence": None,
            "cancellation_reason": cancellation_reason, "description": f[_TEKST] or None,
            "completed_at": completed_at, "contact_her_id": None, "organizer": None,
            "location": None,
        }, _FIELDS_SET, "CosDoc")
        return pasient_nr, appointment
    except (KeyError, ValueError) as error:
        record = f"Avtale {nr if nr.isdigit() and len(nr) < 20 else '?'}"
        named = _which_time(f) if isinstance(error, ValueError) else None
        raise _unusable(record, named or error) from None


def _which_time(f: dict[str, str | None]) -> ValueError | None:
    # Only on the error path: say which of the local time fields is broken.
    for tag, check in ((_DATO, read_date), (_FRA_KL, read_clock), (_TIL_KL, read_clock)):
        try:
            check(f.get(tag))
        except ValueError:
            return ValueError(f"{etree.QName(tag).localname} is not a valid "
                              f"{'date' if tag == _DATO else 'HH:MM time'}")
    return None


_JN = frozenset({"J", "N"})
_ASSIGNED, _COMPLETED, _CANCELLED = (
    AppointmentStatus.ASSIGNED, AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED)
_service_codes: dict[str | None, str] = {}
_patient_numbers: dict[str | None, int] = {}


def _id(text: str | None, name: str = "an id") -> str:
    # CosDoc's ids are longs: digits, without leading zeros, so "007" and "7" are one id.
    if text is None or not text.isdigit() or len(text) > 19:
        raise ValueError(f"{name} is not a number")
    return text if text[0] != "0" else str(int(text))


def _patient_number(text: str | None) -> int:
    number = int(_id(text, "PasientNr"))
    if len(_patient_numbers) >= 100_000:
        _patient_numbers.clear()
    _patient_numbers[text] = number
    return number


def _service_code(text: str | None) -> str:
    code = _service_codes.get(text)
    if code is None:
        code = _id(text, "TjenesteId")
        if len(_service_codes) < 10_000:
            _service_codes[text] = code
    return code


def _completed(dato: str, utfort: str, start: datetime) -> datetime:
    done = instant(dato, utfort)
    if done < start - _HALF_DAY:
        done = instant(next_day(dato), utfort)
    return done


def read_tjeneste(element: etree._Element) -> VendorService:
    """A ``Tjeneste`` as a :class:`VendorService`; its Id is the service code."""
    f = _fields(element)
    try:
        return VendorService(code=_id(f[_ID]), name=f[_NAVN] or "",
                             open_for_dialog=read_jn(f[_DIGITAL]))
    except (KeyError, ValueError, ValidationError) as error:
        raise _unusable("Tjeneste", error) from None


def read_pasient(element: etree._Element) -> tuple[int, CitizenRecord]:
    """A ``Pasient`` (PASIENTER) as ``(PasientNr, CitizenRecord)``."""
    f = _fields(element)
    nr = f.get(_PASIENT_NR)
    try:
        services = tuple(_id(c.text) for c in element.iterchildren(_TJENESTE_ID))
        record = CitizenRecord(national_id=f[_FODSELSNUMMER] or "", name=f[_NAVN] or "",
                               service_codes=services, digitally_active=read_jn(f[_DIGITAL]))
        return int(_id(nr)), record
    except (KeyError, ValueError, ValidationError) as error:
        raise _unusable(f"Pasient {(nr or '?')[:20]}", error) from None


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
            id=int(_id(f[_ID])),
            type=HendelseType(kind) if kind in HendelseType.__members__ else None,
            pasient_nr=int(_id(f[_PASIENT_NR])),
            ref=(f[_REF] or "").strip(),
        )
    except (KeyError, ValueError) as error:
        raise _unusable("Hendelse", error) from None


def read_melding(element: etree._Element, citizen_id: str) -> tuple[int, StaffMessage]:
    """A staff ``Melding`` (HENT_MELDING) as ``(PasientNr, StaffMessage)``."""
    f = _fields(element)
    try:
        sendt = element.find(d("Sendt"))
        if sendt is None:
            raise KeyError(d("Sendt"))
        sent_at = instant(sendt.findtext(_DATO) or "", sendt.findtext(d("Kl")) or "")
        message = StaffMessage(
            vendor_message_id=f[d("MeldingId")] or "",
            thread_id=f.get(d("TradId")) or None,
            in_reply_to=f.get(d("SvarPaMeldingId")) or None,
            service_code=_id(f[d("TjenesteKode")]),
            citizen_id=citizen_id,
            subject=f[d("Emne")] or None,
            body=f[_TEKST] or "",
            author=f[d("Forfatter")] or None,
            sent_at=sent_at,
            interim=read_jn(f[d("Midlertidig")]),
        )
        return int(_id(f[_PASIENT_NR])), message
    except (KeyError, ValueError, ValidationError) as error:
        raise _unusable("Melding", error) from None


def read_pasient_nr(root: etree._Element) -> int:
    """The PasientNr of a FINN_PASIENT answer."""
    try:
        return int(_id(root.findtext(_PASIENT_NR)))
    except ValueError as error:
        raise _unusable("FINN_PASIENT", error) from None


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
            affected_uids=tuple(_id(c.text) for c in root.iterchildren(d("AvtaleNr"))),
            comment=f.get(d("Kommentar")) or None,
        )
    except (KeyError, ValueError, ValidationError) as error:
        raise _unusable("HENT_AVBESTILLINGSSVAR", error) from None
