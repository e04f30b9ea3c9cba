"""The CosDoc adapter: the EPJ contract over one SOAP operation and Latin-1 documents.

- Patients are PasientNr inside CosDoc; :class:`PatientNumbers` maps them to
  national ids and back, asking FINN_PASIENT once per citizen.
- ``appointments`` asks AVTALER for whole Oslo dates (one day before ``start``
  too, for visits that run past midnight) and keeps what overlaps.
- ``changes`` reads HENDELSER after the checkpoint (the last Hendelse Id) and
  fetches each event's details: AVTALE and BESOK_UTFORT with HENT_AVTALE,
  MELDING with HENT_MELDING, AVBESTILLING_SVAR with HENT_AVBESTILLINGSSVAR.
  An event that cannot be used (its details are gone, its patient is unknown,
  a value the domain refuses) is logged by its Id and skipped, so it cannot
  block the events behind it.
- Writes carry our id as EksternId; CosDoc answers a repeat with the first Ref.
  Period cancellations are native: one AVBESTILL names the period and services.
- ``export_appointments`` streams EKSPORT_AVTALER (CosDoc only, not in the contract).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from lxml import etree

from digidialog.adapters.contract import (
    Authentication,
    Capabilities,
    ChangeBatch,
    ChangeSource,
    CitizenMessage,
    CitizenRecord,
    DigitalStatusUpdate,
    EpjReceipt,
    PeriodCancellation,
    VendorService,
)
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import Appointment, CancellationKind, CancellationRequest
from digidialog.domain.events import EpjEvent
from digidialog.domain.timezone import oslo_date
from digidialog.errors import InvalidRequest, UnknownAppointment, UnknownCitizen
from digidialog.log import get_logger
from digidialog_cosdoc import outgoing
from digidialog_cosdoc.appointments import AVTALE, read_avtale
from digidialog_cosdoc.client import CosDocClient, mutual_tls_session
from digidialog_cosdoc.feed import EventReader
from digidialog_cosdoc.mapping import (
    UnusableRecord,
    read_pasient,
    read_pasient_nr,
    read_ref,
    read_tjeneste,
)
from digidialog_cosdoc.patients import PatientNumbers
from digidialog_cosdoc.stream import ExportLimits
from digidialog_cosdoc.wire import PAGE_SIZE, Kommando, d, read_jn

T = TypeVar("T")
_log = get_logger(__name__)
_ONE_DAY = timedelta(days=1)
PATIENTS_FRESH = 600.0
"""Seconds a complete reading of PASIENTER serves the export's number-to-id mapping."""

CAPABILITIES = Capabilities(
    vendor="cosdoc",
    change_source=ChangeSource.POLL,
    period_cancellation=PeriodCancellation.NATIVE,
    authentication=Authentication.MUTUAL_TLS,
    soap_version="1.1",
    max_page_size=PAGE_SIZE,
    local_times=True,
)


class CosDocAdapter:
    """CosDoc behind :class:`~digidialog.adapters.contract.EpjAdapter`."""

    def __init__(self, base_url: str, *, client_cert: Path, client_key: Path, ca: Path,
                 policy: CallPolicy | None = None, limits: ExportLimits | None = None) -> None:
        session = mutual_tls_session(client_cert, client_key, ca)
        self._client = CosDocClient(base_url, session, policy=policy, limits=limits)
        self._patients = PatientNumbers(self._finn_pasient, self._pairs_after)
        self._service_names: dict[str, str] | None = None
        self._events = EventReader(self._client, self._patients, self._names)

    @property
    def capabilities(self) -> Capabilities:
        """CosDoc: polled change feed, native period cancellation, mutual TLS, SOAP 1.1."""
        return CAPABILITIES

    @property
    def patients(self) -> PatientNumbers:
        """The PasientNr cache (for inspection and tests)."""
        return self._patients

    # ------------------------------------------------------------ reading

    def services(self) -> list[VendorService]:
        """TJENESTER: every service, ``Digital`` J meaning open for digital dialog."""
        root = self._client.utfor(Kommando.TJENESTER, outgoing.tjenester())
        services: list[VendorService] = []
        for element in root.iterchildren(d("Tjeneste")):
            try:
                services.append(read_tjeneste(element))
            except UnusableRecord as error:
                _log.warning("cosdoc.record_skipped", command="TJENESTER", reason=str(error))
        self._service_names = {s.code: s.name for s in services}
        return services

    def _names(self) -> dict[str, str]:
        if self._service_names is None:
            self.services()
        return self._service_names or {}

    def _page(self, after: int) -> tuple[list[tuple[int, CitizenRecord]], int | None]:
        root = self._client.utfor(Kommando.PASIENTER, outgoing.pasienter(after))
        records: list[tuple[int, CitizenRecord]] = []
        last = after
        for element in root.iterchildren(d("Pasient")):
            number = element.findtext(d("PasientNr")) or ""
            last = max(last, int(number)) if number.strip().isdigit() else last
            try:
                records.append(read_pasient(element))
            except UnusableRecord as error:
                _log.warning("cosdoc.record_skipped", command="PASIENTER", reason=str(error))
        try:
            more = read_jn(root.findtext(d("Flere")))
        except ValueError:
            raise UnusableRecord("PASIENTER: Flere is not J/N") from None
        self._patients.remember_all((nr, record.national_id) for nr, record in records)
        return records, (last if more else None)

    def _pairs_after(self, after: int) -> tuple[list[tuple[int, str]], int | None]:
        records, following = self._page(after)
        return [(nr, record.national_id) for nr, record in records], following

    def citizens(self, service_code: str | None = None) -> Iterator[CitizenRecord]:
        """PASIENTER, page after page (EtterPasientNr, Flere), optionally for one service."""
        after: int | None = 0
        while after is not None:
            records, following = self._page(after)
            for _, record in records:
                if service_code is None or service_code in record.service_codes:
                    yield record
            after = following if following is not None and following > after else None
        self._patients.completed()

    def appointments(self, citizen_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """AVTALER for the Oslo dates around ``[start, end)``; the appointments overlapping it."""
        if end <= start:
            return []

        def ask(number: int) -> list[Appointment]:
            document = outgoing.avtaler(number, oslo_date(start) - _ONE_DAY, oslo_date(end))
            root = self._client.utfor(Kommando.AVTALER, document, not_found=UnknownCitizen)
            return self._own_appointments(root.iterchildren(AVTALE), number, start, end)

        return self._for_citizen(citizen_id, ask)

    def _own_appointments(self, elements: Iterable[etree._Element], number: int,
                          start: datetime, end: datetime) -> list[Appointment]:
        names = self._names()
        found: list[Appointment] = []
        for element in elements:
            try:
                owner, appointment = read_avtale(element, names)
            except UnusableRecord as error:
                _log.warning("cosdoc.record_skipped", command="AVTALER", reason=str(error))
                continue
            if owner != number:
                # Never show one citizen another's visit, whatever the EPJ sent.
                _log.warning("cosdoc.foreign_record", command="AVTALER", avtale=appointment.uid)
                continue
            if appointment.overlaps(start, end):
                found.append(appointment)
        return found

    def export_appointments(self, day: date) -> Iterator[tuple[str, Appointment]]:
        """EKSPORT_AVTALER for ``day``, streamed: ``(national id, Appointment)`` per record.

        Numbers map to national ids from the cache, without a call per record: every
        PASIENTER page is read first unless the whole list was read in the last
        :data:`PATIENTS_FRESH` seconds (the nightly job reads it just before, then
        exports day after day). Records of patients not listed are skipped.
        """
        if not self._patients.complete_since(self._patients.clock() - PATIENTS_FRESH):
            self._patients.load_all()
        names = self._names()
        unknown = 0
        for number, appointment in self._client.export(outgoing.eksport_avtaler(day), names):
            national_id = self._patients.cached_national_id(number)
            if national_id is None:
                unknown += 1
                continue
            yield national_id, appointment
        if unknown:
            _log.warning("cosdoc.export.unknown_patients", skipped=unknown)

    def changes(self, checkpoint: str | None, limit: int = 500) -> ChangeBatch:
        """HENDELSER after ``checkpoint`` (a Hendelse Id), each with its details fetched."""
        if checkpoint is not None and not checkpoint.strip().isdigit():
            raise InvalidRequest("a CosDoc checkpoint is the Id of a Hendelse")
        after = int(checkpoint) if checkpoint else 0
        events: list[EpjEvent]
        events, last, full = self._events.read(after, limit)
        return ChangeBatch(events=tuple(events),
                           checkpoint=str(last) if last > after else checkpoint, more=full)

    def acknowledge(self, batch: ChangeBatch) -> None:
        """Nothing to do: the checkpoint is the acknowledgement (the feed is read, not popped)."""

    # ------------------------------------------------------------ writing

    def set_digital_status(self, updates: Sequence[DigitalStatusUpdate]) -> int:
        """DIGITAL_STATUS for every update at once; the number CosDoc updated (Antall)."""
        if not updates:
            return 0

        def send(_: int) -> int:
            numbered = [(self._patients.number_of(u.national_id), u.active, u.since)
                        for u in updates]
            root = self._client.utfor(Kommando.DIGITAL_STATUS, outgoing.digital_status(numbered),
                                      not_found=UnknownCitizen)
            antall = (root.findtext(d("Antall")) or "").strip()
            if not antall.isdigit():
                raise UnusableRecord("DIGITAL_STATUS: Antall is not a number")
            return int(antall)

        return self._for_citizens([u.national_id for u in updates], send)

    def deliver_message(self, message: CitizenMessage) -> EpjReceipt:
        """SEND_MELDING with our message id as EksternId; a repeat returns the first Ref."""

        def send(number: int) -> EpjReceipt:
            root = self._client.utfor(Kommando.SEND_MELDING,
                                      outgoing.send_melding(message, number),
                                      not_found=UnknownCitizen)
            return EpjReceipt(accepted=True, epj_reference=read_ref(root))

        return self._for_citizen(message.citizen_id, send)

    def register_cancellation(self, request: CancellationRequest) -> EpjReceipt:
        """AVBESTILL, natively for a period; EksternId is our request id.

        A single cancellation names CosDoc's AvtaleNr (our ``uid``); when it names
        no service, the appointment's own is looked up with HENT_AVTALE.
        """
        single = request.kind is CancellationKind.SINGLE
        if single and not (request.appointment_uid or "").isdigit():
            raise UnknownAppointment("the appointment is not a CosDoc AvtaleNr")
        services = list(request.service_ids) or [self._service_of(request.appointment_uid or "")]

        def send(number: int) -> EpjReceipt:
            root = self._client.utfor(
                Kommando.AVBESTILL, outgoing.avbestill(request, number, services),
                not_found=UnknownAppointment if single else UnknownCitizen,
            )
            return EpjReceipt(accepted=True, epj_reference=read_ref(root))

        return self._for_citizen(request.citizen_id, send)

    def _service_of(self, avtale_nr: str) -> str:
        document = outgoing.hent(Kommando.HENT_AVTALE, avtale_nr)
        root = self._client.utfor(Kommando.HENT_AVTALE, document, not_found=UnknownAppointment)
        avtale = root.find(AVTALE)
        if avtale is None:
            raise UnusableRecord("HENT_AVTALE: Avtale is missing")
        _, appointment = read_avtale(avtale, {})
        if appointment.service_id is None:
            raise UnusableRecord("HENT_AVTALE: TjenesteId is missing")
        return appointment.service_id

    # ------------------------------------------------------------ patients

    def _finn_pasient(self, national_id: str) -> int:
        root = self._client.utfor(Kommando.FINN_PASIENT, outgoing.finn_pasient(national_id),
                                  not_found=UnknownCitizen)
        return read_pasient_nr(root)

    def _for_citizen(self, citizen_id: str, call: Callable[[int], T]) -> T:
        return self._for_citizens([citizen_id], call)

    def _for_citizens(self, citizen_ids: Sequence[str], call: Callable[[int], T]) -> T:
        # A cached PasientNr CosDoc no longer knows (merged, renumbered) is looked up
        # again once; if the numbers are the same, the citizen really is unknown.
        first = self._patients.number_of(citizen_ids[0])
        try:
            return call(first)
        except UnknownCitizen:
            before = {c: self._patients.cached_number(c) for c in citizen_ids}
            for citizen in citizen_ids:
                self._patients.forget(citizen)
            after = {c: self._patients.number_of(c) for c in citizen_ids}
            if after == before:
                raise
            return call(after[citizen_ids[0]])

    def push_endpoint(self) -> None:
        """None: this EPJ is polled for its changes, it pushes nothing."""
        return None

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

