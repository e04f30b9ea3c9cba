"""CosDoc's ``Avtale`` records to domain Appointments: the hot path of AVTALER and the export.

Each ``Avtale`` is read from the lxml tree, its children once into a dict
keyed by tag, and becomes an Appointment through
:func:`digidialog.modelbuild.vendor_appointment`, which checks the model's
rules without running pydantic's validation a second time. The fields:

- Status P/T/U/A is planned/assigned/completed/cancelled;
- Dato FraKl-TilKl are Oslo wall-clock times (see
  :mod:`digidialog_cosdoc.localtime`); a TilKl earlier than FraKl ends the
  next day;
- Ansatt is the one employee (T and U); UtfortKl is the completion time on
  Dato, or on the next day when it is more than 12 hours before FraKl (a
  visit finished after midnight); AvlystAv P/T is cancelled by the
  citizen/by the service; fields a status does not use are ignored;
- ``Gjentas`` J marks one occurrence of a recurring planned visit: CosDoc
  sends no rule, so each occurrence is an appointment of its own, without
  recurrence.

A record whose values cannot be used raises :class:`UnusableRecord`, naming
the record and the field, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from lxml import etree

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason
from digidialog.modelbuild import vendor_appointment
from digidialog_cosdoc.localtime import instant, next_day, read_clock
from digidialog_cosdoc.mapping import UnusableRecord, read_id, unusable
from digidialog_cosdoc.wire import d, read_date

AVTALE = d("Avtale")

_STATUS: dict[str | None, AppointmentStatus] = {
    "P": AppointmentStatus.PLANNED,
    "T": AppointmentStatus.ASSIGNED,
    "U": AppointmentStatus.COMPLETED,
    "A": AppointmentStatus.CANCELLED,
}
_CANCELLED_BY = {"P": CancellationReason.BY_CITIZEN, "T": CancellationReason.BY_SERVICE}
_WITH_EMPLOYEE = frozenset({AppointmentStatus.ASSIGNED, AppointmentStatus.COMPLETED})
_JN = frozenset({"J", "N"})
_HALF_DAY = timedelta(hours=12)

(_NR, _PASIENT_NR, _TJENESTE_ID, _STATUS_TAG, _DATO, _FRA_KL, _TIL_KL, _GJENTAS, _ANSATT,
 _TEKST, _UTFORT_KL, _AVLYST_AV) = (d(n) for n in (
    "Nr", "PasientNr", "TjenesteId", "Status", "Dato", "FraKl", "TilKl", "Gjentas", "Ansatt",
    "Tekst", "UtfortKl", "AvlystAv"))

_PASSED = {"uid", "status", "start", "end", "service_id", "service_name", "employees",
           "description", "completed_at", "cancellation_reason"}
"""The fields read_avtale passes, as ``model_fields_set`` after validation would hold them."""

__all__ = ["AVTALE", "UnusableRecord", "read_avtale"]


def read_avtale(element: etree._Element, service_names: Mapping[str, str]
                ) -> tuple[int, Appointment]:
    """An ``Avtale`` as ``(PasientNr, Appointment)``; ``uid`` is CosDoc's Nr."""
    f = {child.tag: child.text for child in element}
    nr = f.get(_NR) or ""
    try:
        status = _STATUS[f.get(_STATUS_TAG)]
        dato, fra, til = f[_DATO] or "", f[_FRA_KL] or "", f[_TIL_KL] or ""
        start, end = instant(dato, fra), instant(dato, til)
        if end < start:
            end = instant(next_day(dato), til)
        if f[_GJENTAS] not in _JN:
            raise ValueError("Gjentas is not J/N")
        service = read_id(f[_TJENESTE_ID], "TjenesteId")
        pasient_nr = int(read_id(f[_PASIENT_NR], "PasientNr"))
        employee = f.get(_ANSATT) if status in _WITH_EMPLOYEE else None
        done = f.get(_UTFORT_KL) if status is AppointmentStatus.COMPLETED else None
        cancelled_by = f.get(_AVLYST_AV) if status is AppointmentStatus.CANCELLED else None
        appointment = vendor_appointment({
            "uid": read_id(nr, "Nr"), "series": None, "status": status, "start": start,
            "end": end, "service_id": service, "service_name": service_names.get(service),
            "employees": (employee,) if employee else (), "expected_duration": None,
            "recurrence": None,
            "cancellation_reason": None if cancelled_by is None else _CANCELLED_BY[cancelled_by],
            "description": f[_TEKST] or None,
            "completed_at": None if done is None else _completed(dato, done, start),
            "contact_her_id": None, "organizer": None, "location": None,
        }, _PASSED, "CosDoc")
    except (KeyError, ValueError) as error:
        record = f"Avtale {nr if nr.isdigit() and len(nr) < 20 else '?'}"
        named = _which_time(f) if isinstance(error, ValueError) else None
        raise unusable(record, named or error) from None
    return pasient_nr, appointment


def _completed(dato: str, utfort: str, start: datetime) -> datetime:
    # UtfortKl long before FraKl was after midnight: on the next day.
    done = instant(dato, utfort)
    if done < start - _HALF_DAY:
        done = instant(next_day(dato), utfort)
    return done


def _which_time(f: dict[str, str | None]) -> ValueError | None:
    # Only on the error path: say which of the local time fields is broken.
    for tag, check in ((_DATO, read_date), (_FRA_KL, read_clock), (_TIL_KL, read_clock)):
        try:
            check(f.get(tag))
        except ValueError:
            return ValueError(f"{etree.QName(tag).localname} is not a valid "
                              f"{'date' if tag == _DATO else 'HH:MM time'}")
    return None
