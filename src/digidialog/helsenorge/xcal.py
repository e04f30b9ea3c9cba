"""xCal (iCalendar 2.0 in XML, RFC 6321) as Helsenorge's Digihelse profile uses it.

Each VEVENT is one appointment: ``dtstart``/``dtend`` (the time window of a
planned visit, otherwise the booked time), ``uid``, ``related-to`` (the
series), ``contact`` (the HER-id owning it), ``status`` (TENTATIVE,
CONFIRMED, COMPLETED, CANCELLED), ``summary`` (the service's name),
``categories`` (``Tidsvindu``, ``TjenesteId:<id>``), ``x-expected-duration``,
``rrule`` (DAILY or WEEKLY) with one ``exdate`` per paused occurrence,
``attendee`` per employee, ``organizer`` (the municipality) and
``x-cancellation-reason``.

Times: xCal date-times without an offset are Oslo wall-clock times. When we
write an instant that falls in the repeated autumn hour's second pass, we
write it in UTC (``...Z``) instead, so it stays unambiguous.

This module holds the vocabulary both directions share; reading is
:mod:`digidialog.helsenorge.xcal_reader`, writing
:mod:`digidialog.helsenorge.xcal_writer`.
"""

from __future__ import annotations

from digidialog.domain import AppointmentStatus, CancellationReason
from digidialog.helsenorge.names import XCAL, q

TIME_WINDOW = "Tidsvindu"
"""The category of a planned visit's time window."""
CANCELLATION_PERIOD = "Avbestillingsperiode"
"""The category of each VEVENT of a period cancellation (digidialog's convention)."""
SERVICE_PREFIX = "TjenesteId:"
"""The category naming the service, followed by its id."""
UNKNOWN_ADDRESS = "mailto:ikke-oppgitt@helsenorge.invalid"
"""cal-address is mandatory; ``.invalid`` says plainly that no address is known."""

STATUS_TO_XCAL = {
    AppointmentStatus.PLANNED: "TENTATIVE",
    AppointmentStatus.ASSIGNED: "CONFIRMED",
    AppointmentStatus.COMPLETED: "COMPLETED",
    AppointmentStatus.CANCELLED: "CANCELLED",
}
XCAL_TO_STATUS = {v: k for k, v in STATUS_TO_XCAL.items()}
REASON_TO_XCAL = {
    CancellationReason.BY_SERVICE: "Avlyst av tjeneste",
    CancellationReason.NOT_AT_HOME: "Avlyst - ikke hjemme",
    CancellationReason.BY_CITIZEN: "Avlyst av tjenestemottaker selv",
    CancellationReason.ON_BEHALF_OF_CITIZEN: "Avlyst på vegne av tjenestemottaker",
}
XCAL_TO_REASON = {v: k for k, v in REASON_TO_XCAL.items()}


def x(local: str) -> str:
    """An xCal element name in Clark notation."""
    return q(XCAL, local)
