"""CosDoc's change feed (HENDELSER) as domain events, each with its details fetched.

A Hendelse says only what changed (Type, PasientNr, Ref), so each one costs a
second call for its details:

=================  ========================  ==========================================
Type               details                   event
=================  ========================  ==========================================
AVTALE             HENT_AVTALE               AppointmentChanged
BESOK_UTFORT       HENT_AVTALE               VisitCompleted (AppointmentChanged if the
                                             visit is no longer done)
MELDING            HENT_MELDING              StaffMessageWritten
AVBESTILLING_SVAR  HENT_AVBESTILLINGSSVAR    CancellationDecided
=================  ========================  ==========================================

The event id is the Hendelse Id. A Hendelse carries no time, so
``occurred_at`` is the message's Sendt, the visit's completion, or else the
moment the adapter read the event. An event whose details are gone
(Status 2), whose details are unusable even after the endpoint's retries
(hostile, another patient's), whose patient is not in PASIENTER, or whose
values the domain refuses is logged by Id and skipped: the feed moves past it
rather than stopping there for ever. Network errors (unavailable, timeouts)
are raised, and the batch is read again from the same checkpoint; so is a
reply to the details call that cannot be read at all (:class:`BrokenReply`:
truncated, not XML), for as long as :class:`~digidialog.adapters.patience.Patience`
allows, since it says nothing of the record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from lxml import etree

from digidialog.adapters.patience import Patience
from digidialog.domain import AppointmentStatus
from digidialog.domain.events import (
    AppointmentChanged,
    CancellationDecided,
    EpjEvent,
    StaffMessageWritten,
    VisitCompleted,
)
from digidialog.errors import BrokenReply, MalformedReply, UnknownAppointment, VendorRejected
from digidialog.log import get_logger
from digidialog_cosdoc import outgoing
from digidialog_cosdoc.appointments import AVTALE, read_avtale
from digidialog_cosdoc.client import CosDocClient
from digidialog_cosdoc.mapping import (
    Hendelse,
    UnusableRecord,
    read_avbestillingssvar,
    read_hendelse,
    read_melding,
)
from digidialog_cosdoc.patients import PatientNumbers
from digidialog_cosdoc.wire import HendelseType, Kommando, d

_log = get_logger(__name__)


class EventReader:
    """Reads one batch of the change feed into domain events."""

    def __init__(self, client: CosDocClient, patients: PatientNumbers,
                 service_names: Callable[[], dict[str, str]],
                 patience: Patience | None = None) -> None:
        self._client = client
        self._patients = patients
        self._service_names = service_names
        self._began = 0.0
        self.patience = patience or Patience()

    def read(self, after: int, limit: int) -> tuple[list[EpjEvent], int, bool]:
        """Events after Id ``after``: the events, the last Id read, whether the page was full."""
        most = max(1, min(limit, 1000))
        root = self._client.utfor(Kommando.HENDELSER, outgoing.hendelser(after, most))
        events: list[EpjEvent] = []
        last = after
        count = 0
        self._began = self._patients.clock()
        for element in root.iterchildren(d("Hendelse")):
            count += 1
            raw_id = (element.findtext(d("Id")) or "").strip()
            if not raw_id.isdigit() or int(raw_id) <= last:
                # Ids only grow: without a usable one the feed cannot move on safely.
                raise MalformedReply(f"HENDELSER after {after}: an Id is missing or out of order")
            last = int(raw_id)
            try:
                hendelse = read_hendelse(element)
            except UnusableRecord as error:
                _log.warning("cosdoc.event_skipped", event_id=last, reason=str(error))
                continue
            event = self._event(hendelse)
            if event is not None:
                events.append(event)
        return events, last, count >= most

    def _event(self, hendelse: Hendelse) -> EpjEvent | None:
        citizen = self._patients.national_id_of(hendelse.pasient_nr, scanned_since=self._began)
        if citizen is None:
            _log.warning("cosdoc.event_skipped", event_id=hendelse.id, reason="unknown PasientNr")
            return None
        try:
            event = self._details(hendelse, citizen)
        except BrokenReply as error:
            # Nothing is known of the record (a proxy truncating replies, an error page):
            # the batch fails and is read again, for a while, as after a network error.
            if self.patience.still_waiting(str(hendelse.id)):
                raise
            _log.error("cosdoc.event_skipped", event_id=hendelse.id,
                       reason=f"replies stayed broken: {error}")
            return None
        except (MalformedReply, VendorRejected) as error:
            # A detail CosDoc will not give (Status 1 or 2) or cannot give in a usable
            # form, after the endpoint's own retries: skipped, loudly, so that one bad
            # record does not hold back every event behind it. Network trouble is not
            # caught here: it fails the batch, which is read again from its checkpoint.
            _log.error("cosdoc.event_skipped", event_id=hendelse.id,
                       reason=f"{type(error).__name__}: {error}")
            return None
        self.patience.forget(str(hendelse.id))
        return event

    def _details(self, hendelse: Hendelse, citizen: str) -> EpjEvent | None:
        event_id = str(hendelse.id)
        kind = hendelse.type
        if kind in (HendelseType.AVTALE, HendelseType.BESOK_UTFORT):
            root = self._fetch(Kommando.HENT_AVTALE, hendelse.ref)
            avtale = root.find(AVTALE)
            if avtale is None:
                raise UnusableRecord("HENT_AVTALE: Avtale is missing")
            owner, appointment = read_avtale(avtale, self._service_names())
            _same_patient(hendelse, owner)
            if kind is HendelseType.BESOK_UTFORT and (
                    appointment.status is AppointmentStatus.COMPLETED):
                return VisitCompleted(event_id=event_id,
                                      occurred_at=appointment.completed_at or _now(),
                                      citizen_id=citizen, appointment=appointment)
            return AppointmentChanged(event_id=event_id, occurred_at=_now(), citizen_id=citizen,
                                      appointment=appointment)
        if kind is HendelseType.MELDING:
            root = self._fetch(Kommando.HENT_MELDING, hendelse.ref)
            melding = root.find(d("Melding"))
            if melding is None:
                raise UnusableRecord("HENT_MELDING: Melding is missing")
            owner, message = read_melding(melding, citizen)
            _same_patient(hendelse, owner)
            return StaffMessageWritten(event_id=event_id, occurred_at=message.sent_at,
                                       citizen_id=citizen, message=message)
        if kind is HendelseType.AVBESTILLING_SVAR:
            root = self._fetch(Kommando.HENT_AVBESTILLINGSSVAR, hendelse.ref)
            return CancellationDecided(event_id=event_id, occurred_at=_now(), citizen_id=citizen,
                                       decision=read_avbestillingssvar(root))
        _log.warning("cosdoc.event_skipped", event_id=hendelse.id, reason="unknown Type")
        return None

    def _fetch(self, kommando: Kommando, ref: str) -> etree._Element:
        not_found = UnknownAppointment if kommando is Kommando.HENT_AVTALE else VendorRejected
        return self._client.utfor(kommando, outgoing.hent(kommando, ref), not_found=not_found)


def _same_patient(hendelse: Hendelse, owner: int) -> None:
    # Details about another patient than the event names must never reach this citizen.
    if owner != hendelse.pasient_nr:
        raise UnusableRecord(f"the details of Hendelse {hendelse.id} are another patient's")


def _now() -> datetime:
    return datetime.now(UTC)
